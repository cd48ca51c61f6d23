"""The seed's "Template-Based Workflows" (harmonia-technical-documentation.md, "Client Usage").

Unchanged from the seed except the lines marked "Added": the seed makes its template from an existing workflow
("workflow-uuid-here"), so this first creates that workflow (the basic example's two tasks, with
`${params.input_file}` and `${params.output_format}` marking where the template's values go); it keeps the
execution the seed starts, follows it to its end and exits non-zero unless it completed. The server needs `ergon`
and `prometheus` (see README.md in this folder).

    HARMONIA_URL=http://127.0.0.1:8007 python3 examples/template_workflow.py
"""

import asyncio
import sys  # Added: the exit status

from harmonia.client import get_harmonia_client

async def main():
    client = await get_harmonia_client()

    # Added: the existing workflow the template is made from (the seed's "workflow-uuid-here")
    existing = await client.create_workflow(
        name="process_data",
        description="Processes a data file into a format",
        tasks=[
            {
                "id": "task1",
                "component": "ergon",
                "action": "execute_command",
                "input": {"command": "echo processing ${params.input_file} as ${params.output_format}"}
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
    
    # Create a template from an existing workflow
    template = await client.create_template(
        name="process_data_template",
        workflow_definition_id=existing["workflow_id"],  # the seed: "workflow-uuid-here"
        parameters={
            "input_file": {
                "type": "string",
                "required": True,
                "description": "Input file path"
            },
            "output_format": {
                "type": "string",
                "required": False,
                "default": "json",
                "description": "Output format"
            }
        }
    )
    
    # Instantiate the template
    workflow = await client.instantiate_template(
        template_id=template["template_id"],
        parameter_values={
            "input_file": "/path/to/data.csv",
            "output_format": "xml"
        }
    )
    
    # Execute the instantiated workflow
    execution = await client.execute_workflow(workflow_id=workflow["workflow_id"])  # Added: `execution =`

    # Added: follow it to its end and check what ran
    async for _event in client.watch_execution(execution["execution_id"]):
        pass  # the stream ends after the terminal event
    status = await client.get_workflow_status(execution_id=execution["execution_id"])
    print(f"Template {template['template_id']} -> workflow {workflow['workflow_id']}: {workflow['tasks'][0]['input']}")
    print(f"Workflow status: {status['status']}; task1 result: {status['task_executions']['task1']['output']['result']}")
    if status["status"] != "completed":
        sys.exit(f"the execution ended {status['status']}: {status['error']}")

if __name__ == "__main__":
    asyncio.run(main())
