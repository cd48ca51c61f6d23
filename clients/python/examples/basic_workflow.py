"""The seed's "Basic Workflow Creation and Execution" (harmonia-technical-documentation.md, "Client Usage").

Unchanged from the seed except the lines marked "Added": the seed reads the status right after starting the
execution, when it is still `pending` or `running`, so this follows the execution to its end first and exits
non-zero unless it completed. The server needs the seed's components (see README.md in this folder): `ergon`
(an alias of the shell built-in, HARMONIA_ENABLE_SHELL=1) and `prometheus` (the Python component
examples/components/component.py at the repository root).

    HARMONIA_URL=http://127.0.0.1:8007 python3 examples/basic_workflow.py
"""

import asyncio
import sys  # Added: the exit status

from harmonia.client import get_harmonia_client

async def main():
    # Get Harmonia client
    client = await get_harmonia_client()
    
    # Create a workflow
    workflow = await client.create_workflow(
        name="example_workflow",
        description="Example workflow",
        tasks=[
            {
                "id": "task1",
                "component": "ergon",
                "action": "execute_command",
                "input": {"command": "echo Hello World"}
            },
            {
                "id": "task2",
                "component": "prometheus",
                "action": "analyze_results",
                "input": {"data": "${tasks.task1.output.result}"},
                "depends_on": ["task1"]
            }
        ]
    )
    
    # Execute the workflow
    execution = await client.execute_workflow(
        workflow_id=workflow["workflow_id"]
    )

    # Added: follow the execution over SSE; the stream ends after its terminal event
    async for event in client.watch_execution(execution["execution_id"]):
        print(f"  #{event['id']} {event['event']} {event['data'].get('task_id') or ''}".rstrip())
    
    # Get workflow status
    status = await client.get_workflow_status(
        execution_id=execution["execution_id"]
    )
    
    print(f"Workflow status: {status['status']}")

    # Added: what task2 made of task1's output, and the exit status
    print(f"task2 output: {status['task_executions']['task2']['output']}")
    if status["status"] != "completed":
        sys.exit(f"the execution ended {status['status']}: {status['error']}")

if __name__ == "__main__":
    asyncio.run(main())
