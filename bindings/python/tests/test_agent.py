"""Agent with Python tools: the demo model calls the tool where HF's reference reply does,
with arguments valid under the tool's schema (checked by the jsonschema package); a tool's
exception comes back out of run()."""
import json
import unittest

import jsonschema

import stemma
from . import _util
from ._util import engine

ORDER_SCHEMA = {"type": "object", "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"], "additionalProperties": False}
CALL = '<tool_call>{"name": "lookup_order", "arguments": '


def order_cases():
    """(task, order id) for eval cases whose HF reply is a lookup_order call; the task carries
    the user's message and its context, so the agent's first prompt is the eval prompt."""
    out = []
    for c in _util.hf_cases(1):
        if c["output"].startswith(CALL):
            args = json.loads(c["output"][len(CALL):-len("}</tool_call>")])
            task = c["prompt"].split("<|im_start|>user\n", 1)[1]
            task = task[:-len("<|im_end|>\n<|im_start|>assistant\n")]
            out.append((task, args["order_id"]))
    return out


class AgentTest(unittest.TestCase):
    def make_agent(self, **kw):
        return stemma.Agent(engine(), system_prompt=_util.faq_system_prompt(), max_tokens=120,
                            **kw)

    def test_python_tool_is_called_with_valid_arguments(self):
        cases = order_cases()
        self.assertGreaterEqual(len(cases), 2)
        for task, order_id in cases[:2]:
            agent = self.make_agent(max_steps=3)
            calls = []

            @agent.tool(description="Look up an order by its number", parameters=ORDER_SCHEMA)
            def lookup_order(**arguments):
                jsonschema.validate(arguments, ORDER_SCHEMA)
                calls.append(arguments)
                return {"order_id": arguments["order_id"], "status": "delivered",
                        "delivered_on": "2026-11-20"}

            result = agent.run(task)
            self.assertEqual(calls, [{"order_id": order_id}])
            self.assertEqual([s["kind"] for s in result.trace], ["tool_call", "answer"])
            self.assertEqual(json.loads(result.trace[0]["result"])["status"], "delivered")
            self.assertIn(order_id, result.answer)
            agent.close()

    def test_tool_exception_comes_out_of_run(self):
        task, _ = order_cases()[0]
        agent = self.make_agent(max_steps=3)

        def lookup_order(order_id):
            raise LookupError(f"no order {order_id} here")

        agent.add_tool("lookup_order", lookup_order, parameters=ORDER_SCHEMA)
        with self.assertRaisesRegex(LookupError, "no order LM-"):
            agent.run(task)
        # max_steps reached without an answer: ResourceExhausted with the trace.
        short = self.make_agent(max_steps=1)
        short.add_tool("lookup_order", lambda order_id: "ok", parameters=ORDER_SCHEMA)
        with self.assertRaises(stemma.ResourceExhausted) as ctx:
            short.run(task)
        self.assertEqual(ctx.exception.trace[0]["kind"], "tool_call")
        agent.close()
        short.close()

    def test_answer_schema(self):
        schema = {"type": "object",
                  "properties": {"answer": {"type": "string", "maxLength": 60},
                                 "escalate": {"type": "boolean"}},
                  "required": ["answer", "escalate"], "additionalProperties": False}
        agent = self.make_agent(max_steps=2, answer_schema=schema)
        result = agent.run("How do I reset my Lumora Hub?")
        jsonschema.validate(json.loads(result.answer), schema)
        with self.assertRaises(stemma.InvalidArgument):
            agent.add_tool("bad name!", lambda: "x")
        agent.close()


if __name__ == "__main__":
    unittest.main()
