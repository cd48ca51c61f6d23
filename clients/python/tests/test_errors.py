"""Error mapping against a real server (problem+json -> HarmoniaError), network failures, bad arguments, and the
token staying out of reprs and messages."""

import os
import socket
import unittest
import uuid
from unittest import mock

import support
from harmonia import HarmoniaConnectionError, HarmoniaError
from harmonia.client import get_harmonia_client, get_harmonia_state_client


def setUpModule() -> None:
    support.shared_server()


class ErrorTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.server = support.shared_server()
        self.client = await get_harmonia_client(self.server.url, token=self.server.token)

    async def test_404_problem_json(self) -> None:
        missing = str(uuid.uuid4())
        with self.assertRaises(HarmoniaError) as caught:
            await self.client.get_workflow_status(execution_id=missing)
        error = caught.exception
        self.assertEqual(error.status, 404)
        self.assertEqual(error.title, "Not Found")
        self.assertIn(missing, error.detail or "")
        self.assertTrue(error.type.startswith("https://"), error.type)
        self.assertEqual(error.errors, [])
        self.assertEqual(error.problem["status"], 404)
        self.assertIn('"status":404', error.body.replace(" ", ""))
        self.assertEqual(error.request, f"GET /api/executions/{missing}")
        self.assertIn("404 Not Found", str(error))

    async def test_422_names_the_field(self) -> None:
        with self.assertRaises(HarmoniaError) as caught:
            await self.client.create_workflow(name="bad", tasks=[
                {"id": "a", "component": "harmonia", "action": "noop"},
                {"id": "b", "component": "no_such_component", "action": "x", "depends_on": ["a"]}])
        error = caught.exception
        self.assertEqual(error.status, 422)
        self.assertEqual([e["path"] for e in error.errors], ["tasks[1].component"])
        self.assertIn("no_such_component", error.errors[0]["message"])

        with self.assertRaises(HarmoniaError) as caught:
            await self.client.create_workflow(name="cycle", tasks=[
                {"id": "a", "component": "harmonia", "action": "noop", "depends_on": ["zz"]}])
        self.assertEqual(caught.exception.status, 422)
        self.assertTrue(any(e["path"].startswith("tasks[0].depends_on") for e in caught.exception.errors),
                        caught.exception.errors)

    async def test_401_without_a_token(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop("HARMONIA_TOKEN", None)
            anonymous = await get_harmonia_client(self.server.url)
            state = await get_harmonia_state_client(self.server.url)
        for call in (anonymous.list_workflows(), state.load_state(str(uuid.uuid4()))):
            with self.assertRaises(HarmoniaError) as caught:
                await call
            self.assertEqual(caught.exception.status, 401)
            self.assertTrue(caught.exception.title)
        with self.assertRaises(HarmoniaError) as caught:  # the event stream too, at once (no retries)
            async for _event in anonymous.watch_execution(str(uuid.uuid4())):
                pass
        self.assertEqual(caught.exception.status, 401)
        wrong = await get_harmonia_client(self.server.url, token="not-the-token")
        with self.assertRaises(HarmoniaError) as caught:
            await wrong.list_executions()
        self.assertEqual(caught.exception.status, 401)

    async def test_token_from_the_environment(self) -> None:
        with mock.patch.dict(os.environ, {"HARMONIA_TOKEN": self.server.token, "HARMONIA_URL": self.server.url}):
            client = await get_harmonia_client()
        self.assertEqual(client.url, self.server.url)
        self.assertIn("items", await client.list_workflows(limit=1))

    async def test_403_for_a_role_without_the_right(self) -> None:
        viewer = await get_harmonia_client(self.server.url, token=support.VIEWER_TOKEN)
        self.assertIn("items", await viewer.list_workflows(limit=1))
        with self.assertRaises(HarmoniaError) as caught:
            await viewer.create_workflow(name="nope", tasks=[{"id": "a", "component": "harmonia", "action": "noop"}])
        self.assertEqual(caught.exception.status, 403)
        self.assertIn("admin", caught.exception.detail or "")

    async def test_connection_refused_is_a_connection_error(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]  # free once closed
        client = await get_harmonia_client(f"http://127.0.0.1:{port}", token="t")
        with self.assertRaises(HarmoniaConnectionError) as caught:
            await client.list_workflows()
        self.assertIn(f"127.0.0.1:{port}", str(caught.exception))
        self.assertIsInstance(caught.exception, ConnectionError)
        with self.assertRaises(HarmoniaConnectionError):
            async for _event in client.watch_execution(str(uuid.uuid4()), max_retries=1, initial_delay=0.01):
                pass

    async def test_bad_arguments_fail_before_any_request(self) -> None:
        with self.assertRaises(ValueError):
            await get_harmonia_client("localhost:8007")
        with self.assertRaises(ValueError):
            await self.client.get_workflow_status(execution_id="")
        with self.assertRaises(ValueError):
            await self.client.execute_workflow(workflow_id=None)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            await self.client.create_workflow(name="x", tasks=[{"id": "a", "input": object()}])  # type: ignore[list-item]
        with self.assertRaises(TypeError):  # a string where a list of task ids belongs
            await self.client.rerun_execution(str(uuid.uuid4()), tasks="task2")
        with self.assertRaises(ValueError):
            async for _event in self.client.watch_execution(str(uuid.uuid4()), last_event_id="abc"):
                pass
        # An id cannot change the path: it is one segment, so this is a 404, not another route.
        with self.assertRaises(HarmoniaError) as caught:
            await self.client.get_workflow("../executions")
        self.assertEqual(caught.exception.status, 404)

    async def test_the_token_is_never_in_a_repr_or_message(self) -> None:
        secret = "s3cr3t-token-value"
        client = await get_harmonia_client(self.server.url, token=secret)
        texts = [repr(client), str(client), repr(client._http)]
        with self.assertRaises(HarmoniaError) as caught:
            await client.list_workflows()
        texts += [str(caught.exception), repr(caught.exception), caught.exception.body]
        for text in texts:
            self.assertNotIn(secret, text)


if __name__ == "__main__":
    unittest.main()
