"""Template operations against a real server: create, get, list, instantiate (values, defaults, 422s)."""

import unittest
import uuid

import support
from harmonia import HarmoniaError
from harmonia.client import get_harmonia_client

PARAMETERS = {
    "input_file": {"type": "string", "required": True, "description": "Input file path"},
    "output_format": {"type": "string", "required": False, "default": "json", "description": "Output format"},
}


def setUpModule() -> None:
    support.shared_server()


class TemplateTests(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self) -> None:
        server = support.shared_server()
        self.client = await get_harmonia_client(server.url, token=server.token)
        self.name = f"tpl-{uuid.uuid4().hex[:8]}"
        workflow = await self.client.create_workflow(
            name=f"{self.name}-source", tasks=support.echo_tasks("echo ${params.input_file} as ${params.output_format}"))
        self.workflow_id = workflow["workflow_id"]
        self.template = await self.client.create_template(
            name=self.name, workflow_definition_id=self.workflow_id, parameters=PARAMETERS, description="d")

    async def test_create_get_list(self) -> None:
        template = self.template
        self.assertEqual(template["name"], self.name)
        self.assertEqual(template["workflow_definition_id"], self.workflow_id)
        self.assertEqual(template["parameters"]["input_file"]["required"], True)
        self.assertEqual(template["parameters"]["output_format"]["default"], "json")
        self.assertEqual(template["version"], 1)
        self.assertEqual(await self.client.get_template(template_id=template["template_id"]), template)
        self.assertEqual((await self.client.get_template(template["template_id"], version=1))["version"], 1)
        page = await self.client.list_templates(filter=self.name, limit=5)
        self.assertEqual([t["template_id"] for t in page["items"]], [template["template_id"]])
        self.assertEqual(page["total"], 1)

    async def test_instantiate_substitutes_values_and_defaults_and_runs(self) -> None:
        given = await self.client.instantiate_template(
            template_id=self.template["template_id"],
            parameter_values={"input_file": "/path/to/data.csv", "output_format": "xml"})
        self.assertNotEqual(given["workflow_id"], self.workflow_id)
        self.assertEqual(given["tasks"][0]["input"], {"command": "echo /path/to/data.csv as xml"})
        defaulted = await self.client.instantiate_template(
            self.template["template_id"], parameter_values={"input_file": "/b.csv"}, name=f"{self.name}-named")
        self.assertEqual(defaulted["name"], f"{self.name}-named")
        self.assertEqual(defaulted["tasks"][0]["input"], {"command": "echo /b.csv as json"})

        execution = await self.client.execute_workflow(workflow_id=given["workflow_id"])
        final = await support.run_to_end(self.client, execution["execution_id"])
        self.assertEqual(final["status"], "completed")
        self.assertEqual(final["task_executions"]["task1"]["output"]["result"], "/path/to/data.csv as xml")

    async def test_instantiate_422_names_the_missing_or_mistyped_parameter(self) -> None:
        with self.assertRaises(HarmoniaError) as missing:
            await self.client.instantiate_template(self.template["template_id"], parameter_values={})
        self.assertEqual(missing.exception.status, 422)
        self.assertTrue(any("input_file" in e["path"] + e["message"] for e in missing.exception.errors),
                        missing.exception.errors)
        with self.assertRaises(HarmoniaError) as mistyped:
            await self.client.instantiate_template(self.template["template_id"], parameter_values={"input_file": 3})
        self.assertEqual(mistyped.exception.status, 422)
        self.assertTrue(any("input_file" in e["path"] + e["message"] for e in mistyped.exception.errors),
                        mistyped.exception.errors)


if __name__ == "__main__":
    unittest.main()
