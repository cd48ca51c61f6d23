"""Execution operations against a real server: execute, status, list, history, pause/resume/cancel, signals, rerun."""

import unittest
import uuid

import support
from harmonia import HarmoniaError
from harmonia.client import get_harmonia_client


def setUpModule() -> None:
    support.shared_server()


class ExecutionTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        server = support.shared_server()
        self.client = await get_harmonia_client(server.url, token=server.token)

    async def workflow(self, tasks=None, **fields) -> str:
        name = f"ex-{uuid.uuid4().hex[:8]}"
        created = await self.client.create_workflow(name=name, tasks=tasks or support.echo_tasks(), **fields)
        return created["workflow_id"]

    async def test_execute_runs_to_completion_with_task_outputs(self) -> None:
        workflow_id = await self.workflow(input={"word": {"type": "string", "required": True}},
                                          tasks=support.echo_tasks("echo ${input.word} there"))
        started = await self.client.execute_workflow(workflow_id=workflow_id, input={"word": "hello"},
                                                     metadata={"by": "python"})
        self.assertIn(started["status"], ("pending", "running"))
        self.assertEqual(started["workflow_id"], workflow_id)
        self.assertEqual(started["workflow_version"], 1)

        final = await support.run_to_end(self.client, started["execution_id"])
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["input"], {"word": "hello"})
        self.assertEqual(final["metadata"], {"by": "python"})
        task1, task2 = final["task_executions"]["task1"], final["task_executions"]["task2"]
        self.assertEqual(task1["output"]["result"], "hello there")
        self.assertEqual(task2["input"], {"data": "hello there"})
        self.assertEqual(task2["output"]["analysis"], "2 words")
        self.assertEqual((task2["attempts"], task2["retries"]), (1, 0))

        history = await self.client.get_execution_history(execution_id=started["execution_id"])
        self.assertEqual(history["execution_id"], started["execution_id"])
        types = [e["type"] for e in history["events"]]
        self.assertEqual(types[0], "workflow_started")
        self.assertEqual(types[-1], "workflow_completed")
        self.assertEqual([e["seq"] for e in history["events"]], list(range(1, len(types) + 1)))
        self.assertIn("metrics", history)
        self.assertIsInstance(history["checkpoints"], list)

        page = await self.client.list_executions(workflow_id=workflow_id, status="completed", limit=5)
        self.assertEqual(page["total"], 1)
        self.assertEqual(page["items"][0]["execution_id"], started["execution_id"])
        self.assertNotIn("task_executions", page["items"][0])
        self.assertEqual((await self.client.list_executions(workflow_id=workflow_id, status="failed"))["total"], 0)

    async def test_input_checked_against_the_workflow_422_naming_the_field(self) -> None:
        workflow_id = await self.workflow(input={"word": {"type": "string", "required": True}})
        with self.assertRaises(HarmoniaError) as caught:
            await self.client.execute_workflow(workflow_id=workflow_id, input={})
        error = caught.exception
        self.assertEqual(error.status, 422)
        self.assertTrue(any("word" in e["path"] for e in error.errors), error.errors)

    async def test_pause_resume_cancel_and_409_after_the_end(self) -> None:
        workflow_id = await self.workflow(tasks=[
            {"id": "nap", "component": "harmonia", "action": "sleep", "input": {"seconds": 60}}])
        started = await self.client.execute_workflow(workflow_id=workflow_id)
        execution_id = started["execution_id"]
        await support.wait_for_event(self.client, execution_id, "task_started", "nap")

        self.assertEqual((await self.client.pause_workflow(execution_id=execution_id))["status"], "paused")
        self.assertEqual((await self.client.get_workflow_status(execution_id))["status"], "paused")
        self.assertEqual((await self.client.resume_workflow(execution_id=execution_id))["status"], "running")
        self.assertEqual((await self.client.cancel_workflow(execution_id=execution_id))["status"], "canceled")

        final = await support.run_to_end(self.client, execution_id)
        self.assertEqual(final["status"], "canceled")
        types = [e["type"] for e in (await self.client.get_execution_history(execution_id))["events"]]
        self.assertIn("workflow_paused", types)
        self.assertIn("workflow_resumed", types)
        self.assertEqual(types[-1], "workflow_canceled")

        with self.assertRaises(HarmoniaError) as caught:
            await self.client.pause_workflow(execution_id)
        self.assertEqual(caught.exception.status, 409)

    async def test_send_signal_completes_the_waiting_task_with_its_payload(self) -> None:
        workflow_id = await self.workflow(tasks=[
            {"id": "approval", "component": "harmonia", "action": "wait_for_signal", "input": {"name": "approve"}}])
        started = await self.client.execute_workflow(workflow_id=workflow_id)
        execution_id = started["execution_id"]
        await support.wait_for_event(self.client, execution_id, "task_started", "approval")

        answer = await self.client.send_signal(execution_id, "approve", payload={"by": "alice"})
        self.assertEqual((answer["execution_id"], answer["name"]), (execution_id, "approve"))
        self.assertIsInstance(answer["delivered"], bool)

        final = await support.run_to_end(self.client, execution_id)
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["task_executions"]["approval"]["output"], {"by": "alice"})
        signals = await self.client.list_signals(execution_id)
        self.assertEqual([(s["name"], s["received"]) for s in signals], [("approve", [{"by": "alice"}])])

        with self.assertRaises(HarmoniaError) as caught:  # finished: 409
            await self.client.send_signal(execution_id, "approve")
        self.assertEqual(caught.exception.status, 409)

    async def test_rerun_runs_the_named_task_again_and_keeps_the_others(self) -> None:
        workflow_id = await self.workflow()
        first = await support.run_to_end(
            self.client, (await self.client.execute_workflow(workflow_id=workflow_id))["execution_id"])
        self.assertEqual(first["status"], "completed")

        rerun = await self.client.rerun_execution(first["execution_id"], tasks=["task2"])
        self.assertEqual(rerun["rerun_of"], first["execution_id"])
        self.assertNotEqual(rerun["execution_id"], first["execution_id"])
        final = await support.run_to_end(self.client, rerun["execution_id"])
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["task_executions"]["task1"]["output"], first["task_executions"]["task1"]["output"])
        started = [e["task_id"] for e in (await self.client.get_execution_history(rerun["execution_id"]))["events"]
                   if e["type"] == "task_started"]
        self.assertEqual(started, ["task2"])


if __name__ == "__main__":
    unittest.main()
