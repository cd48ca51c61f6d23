"""The seed's "State Management and Checkpoints" (harmonia-technical-documentation.md, "Client Usage").

Unchanged from the seed except the lines marked "Added": the seed checkpoints a running execution it names
("execution-uuid-here"), so this first starts one (ergon -> a 1 s durable sleep -> prometheus) and waits until its
first task has completed; it saves some state before the checkpoint, follows the restored execution to its end and
exits non-zero unless it completed with the carried-over task kept. The server needs `ergon` and `prometheus` (see
README.md in this folder).

    HARMONIA_URL=http://127.0.0.1:8007 python3 examples/state_checkpoints.py
"""

import asyncio
import sys  # Added: the exit status

from harmonia.client import get_harmonia_client, get_harmonia_state_client


async def start_running_execution(client):
    """Added: an execution that is still running when it is checkpointed, after its first task completed."""
    workflow = await client.create_workflow(
        name="checkpoint_example",
        tasks=[
            {"id": "task1", "component": "ergon", "action": "execute_command",
             "input": {"command": "echo step one done"}},
            {"id": "wait", "component": "harmonia", "action": "sleep", "input": {"seconds": 1},
             "depends_on": ["task1"]},
            {"id": "task2", "component": "prometheus", "action": "analyze_results",
             "input": {"data": "${tasks.task1.output.result}"}, "depends_on": ["wait"]},
        ],
    )
    execution = await client.execute_workflow(workflow_id=workflow["workflow_id"])
    async for event in client.watch_execution(execution["execution_id"]):
        if event["event"] == "task_completed" and event["data"].get("task_id") == "task1":
            break  # leaving the loop closes the stream
    return execution["execution_id"]

async def main():
    client = await get_harmonia_client()
    state_client = await get_harmonia_state_client()

    execution_id = await start_running_execution(client)  # Added: the seed's "execution-uuid-here"
    await state_client.save_state(execution_id, {"note": "saved before the checkpoint"})  # Added
    
    # Create checkpoint for a running workflow
    checkpoint = await state_client.create_checkpoint(
        execution_id=execution_id
    )
    print(f"Checkpoint {checkpoint['checkpoint_id']}: completed {checkpoint['completed_tasks']}")  # Added
    
    # Restore from checkpoint
    new_execution = await client.restore_from_checkpoint(
        checkpoint_id=checkpoint["checkpoint_id"]
    )
    
    print(f"Restored workflow: {new_execution['execution_id']}")

    # Added: follow the restored execution to its end and check it
    async for event in client.watch_execution(new_execution["execution_id"]):
        print(f"  #{event['id']} {event['event']} {event['data'].get('task_id') or ''}".rstrip())
    restored = await client.get_workflow_status(execution_id=new_execution["execution_id"])
    state = await state_client.load_state(new_execution["execution_id"])
    print(f"Restored execution {restored['status']} (restored from {restored['restored_from']}), state {state['state']}")
    if restored["status"] != "completed":
        sys.exit(f"the restored execution ended {restored['status']}: {restored['error']}")
    if restored["task_executions"]["task1"]["output"]["result"] != "step one done":
        sys.exit("the restored execution did not keep task1's output")

if __name__ == "__main__":
    asyncio.run(main())
