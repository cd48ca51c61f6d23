"""The seed's three client examples, run as scripts (python3 examples/x.py) against the real server."""

import os
import subprocess
import sys
import unittest

import support

EXAMPLES = support.CLIENT_DIR / "examples"


def setUpModule() -> None:
    support.shared_server()


def run_example(name: str, token: str) -> subprocess.CompletedProcess:
    server = support.shared_server()
    env = {**os.environ, "HARMONIA_URL": server.url, "HARMONIA_TOKEN": token,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(support.CLIENT_DIR), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, cwd=support.CLIENT_DIR,
                          capture_output=True, text=True, timeout=60)


class ExampleTests(unittest.TestCase):
    def check(self, name: str) -> str:
        done = run_example(name, support.shared_server().token)
        self.assertEqual(done.returncode, 0, f"{name} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def test_basic_workflow(self) -> None:
        out = self.check("basic_workflow.py")
        self.assertIn("Workflow status: completed", out)
        self.assertIn("'analysis': '2 words'", out)
        self.assertIn("'received': 'Hello World'", out)

    def test_template_workflow(self) -> None:
        out = self.check("template_workflow.py")
        self.assertIn("{'command': 'echo processing /path/to/data.csv as xml'}", out)
        self.assertIn("Workflow status: completed; task1 result: processing /path/to/data.csv as xml", out)

    def test_state_checkpoints(self) -> None:
        out = self.check("state_checkpoints.py")
        self.assertIn("completed ['task1']", out)
        self.assertIn("Restored workflow: ", out)
        self.assertIn("Restored execution completed (restored from ", out)
        self.assertIn("{'note': 'saved before the checkpoint'}", out)
        self.assertNotIn("task_started task1", out)  # carried over, not run again

    def test_an_example_that_fails_exits_non_zero(self) -> None:
        done = run_example("basic_workflow.py", "wrong-token")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("401", done.stderr)
        self.assertNotIn("Workflow status", done.stdout)


if __name__ == "__main__":
    unittest.main()
