"""State and checkpoints against a real server: save/load state, create/get/list checkpoints, restore."""

import unittest
import uuid

import support
from harmonia import HarmoniaError
from harmonia.client import get_harmonia_client, get_harmonia_state_client


def setUpModule() -> None:
    support.shared_server()


class StateTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        server = support.shared_server()
        self.client = await get_harmonia_client(server.url, token=server.token)
        self.state = await get_harmonia_state_client(server.url, token=server.token)

    async def running_execution(self) -> str:
        """task1 done, `hold` waiting for a signal, task2 after it: checkpointed mid-run."""
        workflow = await self.client.create_workflow(name=f"st-{uuid.uuid4().hex[:8]}", tasks=[
            {"id": "task1", "component": "ergon", "action": "execute_command", "input": {"command": "echo one"}},
            {"id": "hold", "component": "harmonia", "action": "wait_for_signal", "input": {"name": "go"},
             "depends_on": ["task1"]},
            {"id": "task2", "component": "prometheus", "action": "analyze_results",
             "input": {"data": "${tasks.task1.output.result} ${state.note}"}, "depends_on": ["hold"]},
        ])
        execution = await self.client.execute_workflow(workflow_id=workflow["workflow_id"])
        await support.wait_for_event(self.client, execution["execution_id"], "task_started", "hold")
        return execution["execution_id"]

    async def test_state_checkpoint_restore(self) -> None:
        execution_id = await self.running_execution()
        saved = await self.state.save_state(execution_id, {"note": "kept"})
        self.assertEqual((saved["execution_id"], saved["state"]), (execution_id, {"note": "kept"}))
        loaded = await self.state.load_state(execution_id=execution_id)
        self.assertEqual(loaded["state"], {"note": "kept"})
        self.assertTrue(loaded["updated_at"].endswith("Z"))

        checkpoint = await self.state.create_checkpoint(execution_id=execution_id)
        self.assertEqual(checkpoint["execution_id"], execution_id)
        self.assertEqual(checkpoint["workflow_status"], "running")
        self.assertEqual(checkpoint["completed_tasks"], ["task1"])
        self.assertEqual(checkpoint["task_statuses"]["task1"], "completed")
        self.assertEqual(checkpoint["state_data"], {"note": "kept"})
        self.assertEqual(await self.state.get_checkpoint(checkpoint_id=checkpoint["checkpoint_id"]), checkpoint)
        page = await self.state.list_checkpoints(execution_id=execution_id)
        self.assertEqual([c["checkpoint_id"] for c in page["items"]], [checkpoint["checkpoint_id"]])

        restored = await self.client.restore_from_checkpoint(checkpoint_id=checkpoint["checkpoint_id"])
        self.assertEqual(restored["restored_from"], checkpoint["checkpoint_id"])
        self.assertNotEqual(restored["execution_id"], execution_id)
        await support.wait_for_event(self.client, restored["execution_id"], "task_started", "hold")
        await self.client.send_signal(restored["execution_id"], "go")
        final = await support.run_to_end(self.client, restored["execution_id"])
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["task_executions"]["task1"]["output"]["result"], "one")
        self.assertEqual(final["task_executions"]["task2"]["input"], {"data": "one kept"})
        events = (await self.client.get_execution_history(restored["execution_id"]))["events"]
        self.assertNotIn("task1", [e.get("task_id") for e in events if e["type"] == "task_started"])
        self.assertEqual(events[0]["seq"], 1)

        await self.client.cancel_workflow(execution_id)  # the original is still waiting

    async def test_state_bad_input_and_unknown_execution(self) -> None:
        with self.assertRaises(TypeError):
            await self.state.save_state(str(uuid.uuid4()), ["not", "an", "object"])  # type: ignore[arg-type]
        with self.assertRaises(HarmoniaError) as caught:
            await self.state.create_checkpoint(execution_id=str(uuid.uuid4()))
        self.assertEqual(caught.exception.status, 404)
        with self.assertRaises(HarmoniaError) as caught:
            await self.state.get_checkpoint(str(uuid.uuid4()))
        self.assertEqual(caught.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
