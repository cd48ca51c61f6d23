"""The SSE event stream against a real server: replay, resume with last_event_id after the caller drops it, and
automatic resume (Last-Event-ID) when the network cuts the connection mid-stream."""

import unittest
import uuid

import support
from harmonia import TERMINAL_EVENT_TYPES, HarmoniaError
from harmonia.client import get_harmonia_client

# ergon, then a 1 s durable sleep, then prometheus: the stream is live for a while after the first events.
SLOW_TASKS = [
    {"id": "task1", "component": "ergon", "action": "execute_command", "input": {"command": "echo first"}},
    {"id": "wait", "component": "harmonia", "action": "sleep", "input": {"seconds": 1}, "depends_on": ["task1"]},
    {"id": "task2", "component": "prometheus", "action": "analyze_results",
     "input": {"data": "${tasks.task1.output.result}"}, "depends_on": ["wait"]},
]


def setUpModule() -> None:
    support.shared_server()


class WatchTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        self.server = support.shared_server()
        self.client = await get_harmonia_client(self.server.url, token=self.server.token)

    async def start(self) -> str:
        workflow = await self.client.create_workflow(name=f"w-{uuid.uuid4().hex[:8]}", tasks=SLOW_TASKS)
        return (await self.client.execute_workflow(workflow_id=workflow["workflow_id"]))["execution_id"]

    async def assert_matches_history(self, execution_id: str, events: list) -> None:
        """Every event once, in order, no gaps, ending with the terminal one, as the persisted log has them."""
        seqs = [e["data"]["seq"] for e in events]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertEqual([e["id"] for e in events], [str(s) for s in seqs])
        self.assertEqual(events[-1]["event"], "workflow_completed")
        self.assertIn(events[-1]["event"], TERMINAL_EVENT_TYPES)
        history = await self.client.get_execution_history(execution_id)
        self.assertEqual([e["data"] for e in events], history["events"])
        self.assertEqual([e["event"] for e in events], [e["type"] for e in history["events"]])

    async def test_drop_then_resume_with_last_event_id(self) -> None:
        execution_id = await self.start()
        first = []
        async for event in self.client.watch_execution(execution_id):
            first.append(event)
            if len(first) == 3:
                break  # the caller drops the stream (the connection is closed)
        self.assertEqual([e["data"]["seq"] for e in first], [1, 2, 3])
        self.assertEqual(first[0]["event"], "workflow_started")
        self.assertEqual(first[0]["data"]["execution_id"], execution_id)

        rest = [e async for e in self.client.watch_execution(execution_id, last_event_id=first[-1]["id"])]
        self.assertEqual(rest[0]["data"]["seq"], 4)
        await self.assert_matches_history(execution_id, first + rest)

    async def test_a_cut_connection_is_resumed_without_duplicates_or_gaps(self) -> None:
        execution_id = await self.start()
        proxy = support.CuttingProxy(self.server.url, marker=b'"type":"task_completed"', cuts=1)
        try:
            through = await get_harmonia_client(proxy.url, token=self.server.token)
            events = [e async for e in through.watch_execution(execution_id, initial_delay=0.05)]
        finally:
            proxy.close()
        await self.assert_matches_history(execution_id, events)
        # The first connection was cut after a task_completed, before the end; the second resumed after the last
        # event received whole, with Last-Event-ID.
        self.assertEqual(len(proxy.last_event_ids), 2, proxy.last_event_ids)
        self.assertIsNone(proxy.last_event_ids[0])
        resumed = proxy.last_event_ids[1]
        self.assertIsNotNone(resumed)
        resumed_after = int(resumed or "-1")
        self.assertGreaterEqual(resumed_after, 2)
        self.assertLess(resumed_after, events[-1]["data"]["seq"])

    async def test_replay_of_a_finished_execution_then_resume_at_the_end(self) -> None:
        execution_id = await self.start()
        events = [e async for e in self.client.watch_execution(execution_id)]
        await self.assert_matches_history(execution_id, events)
        again = [e async for e in self.client.watch_execution(execution_id, last_event_id=len(events) - 1)]
        self.assertEqual([e["event"] for e in again], ["workflow_completed"])

    async def test_unknown_execution_is_a_404_at_once(self) -> None:
        with self.assertRaises(HarmoniaError) as caught:
            async for _event in self.client.watch_execution(str(uuid.uuid4())):
                pass
        self.assertEqual(caught.exception.status, 404)


if __name__ == "__main__":
    unittest.main()
