"""Workflow operations against a real server: create, get (and by version), update, list, versions, delete."""

import unittest
import uuid

import support
from harmonia import HarmoniaError
from harmonia.client import get_harmonia_client


def setUpModule() -> None:
    support.shared_server()


class WorkflowTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        server = support.shared_server()
        self.client = await get_harmonia_client(server.url, token=server.token)
        self.name = f"wf-{uuid.uuid4().hex[:8]}"

    async def test_create_get_update_list_delete(self) -> None:
        created = await self.client.create_workflow(
            name=self.name, description="Example workflow", tasks=support.echo_tasks(),
            input={"who": {"type": "string", "required": False, "default": "World"}},
            output={"analysis": "${tasks.task2.output.analysis}"})
        workflow_id = created["workflow_id"]
        self.assertEqual(uuid.UUID(workflow_id).version, 7)
        self.assertEqual(created["name"], self.name)
        self.assertEqual(created["description"], "Example workflow")
        self.assertEqual(created["version"], 1)
        self.assertEqual([t["id"] for t in created["tasks"]], ["task1", "task2"])
        self.assertEqual(created["tasks"][1]["depends_on"], ["task1"])
        self.assertEqual(created["output"], {"analysis": "${tasks.task2.output.analysis}"})

        self.assertEqual(await self.client.get_workflow(workflow_id=workflow_id), created)

        updated = await self.client.update_workflow(
            workflow_id, name=self.name, description="second version", tasks=support.echo_tasks("echo again"))
        self.assertEqual(updated["version"], 2)
        self.assertEqual(updated["description"], "second version")
        latest = await self.client.get_workflow(workflow_id)
        self.assertEqual(latest["tasks"][0]["input"], {"command": "echo again"})
        first = await self.client.get_workflow(workflow_id, version=1)
        self.assertEqual(first["version"], 1)
        self.assertEqual(first["tasks"][0]["input"], {"command": "echo Hello World"})

        versions = await self.client.list_workflow_versions(workflow_id)
        self.assertEqual([v["version"] for v in versions["items"]], [2, 1])

        page = await self.client.list_workflows(filter=self.name, limit=10, offset=0)
        self.assertEqual(page["total"], 1)
        self.assertEqual((page["limit"], page["offset"]), (10, 0))
        self.assertEqual([w["workflow_id"] for w in page["items"]], [workflow_id])

        self.assertIsNone(await self.client.delete_workflow(workflow_id=workflow_id))
        with self.assertRaises(HarmoniaError) as caught:
            await self.client.get_workflow(workflow_id)
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual((await self.client.list_workflows(filter=self.name))["total"], 0)

    async def test_list_pages_with_limit_and_offset(self) -> None:
        ids = [(await self.client.create_workflow(name=f"{self.name}-{i}", tasks=support.echo_tasks()))["workflow_id"]
               for i in range(3)]
        first = await self.client.list_workflows(filter=self.name, limit=2)
        second = await self.client.list_workflows(filter=self.name, limit=2, offset=2)
        self.assertEqual(first["total"], 3)
        self.assertEqual(len(first["items"]), 2)
        self.assertEqual(len(second["items"]), 1)
        self.assertEqual(sorted(w["workflow_id"] for w in first["items"] + second["items"]), sorted(ids))

    async def test_tasks_as_a_map_keyed_by_id(self) -> None:
        created = await self.client.create_workflow(name=self.name, tasks={
            "only": {"component": "harmonia", "action": "noop"}})
        self.assertEqual([t["id"] for t in created["tasks"]], ["only"])


if __name__ == "__main__":
    unittest.main()


class ClientLifecycleTests(unittest.IsolatedAsyncioTestCase):
    async def test_health_and_async_with(self) -> None:
        server = support.shared_server()
        async with await get_harmonia_client(server.url, token=server.token) as client:
            health = await client.health()
            self.assertEqual(health["status"], "healthy")
            self.assertEqual(health["component"], "harmonia")
            self.assertIn(health["database"], ("pglite", "postgres", "memory"))
        await client.close()  # closing again is harmless

