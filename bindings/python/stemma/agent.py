"""Agent: a model that calls Python functions as tools until it answers. Tool calls are
generated under the tools' JSON Schemas, so their arguments always parse.

    agent = Agent(engine, max_steps=4)

    @agent.tool(description="Look up an order by its number",
                parameters={"type": "object", "properties": {"order_id": {"type": "string"}},
                            "required": ["order_id"]})
    def lookup_order(order_id):
        return {"order_id": order_id, "status": "shipped"}

    result = agent.run("Where is my order LM-123456?")   # result.answer, result.trace
"""
import ctypes
import json

from . import _lib
from .engine import Handle
from .errors import InternalError, StemmaError, check, error_for


class AgentResult:
    def __init__(self, answer, trace):
        self.answer = answer
        self.trace = trace  # [{"step", "kind", "name", "arguments", "result", "text", ...}]

    def __repr__(self):
        return f"AgentResult(answer={self.answer!r}, steps={len(self.trace)})"


class Agent(Handle):
    _free_name = "stemma_agent_free"

    def __init__(self, engine, *, system_prompt=None, max_steps=8, max_tokens=256,
                 temperature=0.0, seed=0, answer_schema=None, tool_choice="auto"):
        super().__init__()
        self.engine = engine
        self._tools = []  # (callable, c callback) kept alive with the agent
        self._tool_error = None
        o = _lib.AgentOptions()
        o.struct_size = ctypes.sizeof(o)  # init writes only our struct
        self._lib.stemma_agent_options_init(ctypes.byref(o))
        self._strings = [_lib.encode(system_prompt, "system_prompt")]
        o.system_prompt = self._strings[0]
        o.max_steps, o.max_tokens = max_steps, max_tokens
        o.temperature, o.seed = temperature, seed
        choices = {"auto": 0, "required": 1, "none": 2}
        if tool_choice not in choices:
            raise ValueError(f"tool_choice must be one of {sorted(choices)}, got {tool_choice!r}")
        o.tool_choice = choices[tool_choice]
        if answer_schema is not None:
            if not isinstance(answer_schema, (str, bytes)):
                answer_schema = json.dumps(answer_schema)
            self._strings.append(_lib.encode(answer_schema, "answer_schema"))
            o.answer_schema = self._strings[-1]
        check(self._lib.stemma_agent_new(engine.handle, ctypes.byref(o),
                                         ctypes.byref(self._handle)), self._lib)

    def add_tool(self, name, fn, *, description="", parameters=None):
        """Registers fn as tool `name`. fn gets the arguments as keyword arguments (a JSON
        object) and returns a str (given to the model as is) or a JSON-serializable value."""
        if parameters is None:
            parameters = {"type": "object", "properties": {}}
        schema = parameters if isinstance(parameters, (str, bytes)) else json.dumps(parameters)

        def call(_user_data, arguments, result):
            try:
                args = json.loads(arguments.decode("utf-8"))
                value = fn(**args) if isinstance(args, dict) else fn(args)
                text = value if isinstance(value, str) else json.dumps(value)
                return self._lib.stemma_tool_result_set(result, _lib.encode(text))
            except BaseException as e:  # noqa: BLE001 - re-raised by run()
                self._tool_error = e
                self._lib.stemma_tool_result_set(
                    result, f"{type(e).__name__}: {e}".encode("utf-8", "replace"))
                return InternalError.status

        c_fn = _lib.TOOL_FN(call)
        check(self._lib.stemma_agent_add_tool(self.handle, _lib.encode(name, "name"),
                                              _lib.encode(description, "description"),
                                              _lib.encode(schema, "parameters"), c_fn, None),
              self._lib)
        self._tools.append((fn, c_fn))
        return fn

    def tool(self, name=None, *, description="", parameters=None):
        """Decorator form of add_tool (the function's name is the tool's name by default)."""
        def register(fn):
            return self.add_tool(name or fn.__name__, fn, description=description or
                                 (fn.__doc__ or "").strip(), parameters=parameters)
        return register

    def run(self, task):
        """Runs the loop for `task`; returns an AgentResult. Raises ResourceExhausted when
        max_steps turns pass without an answer (its .trace says what happened), and re-raises
        an exception a tool raised."""
        answer, trace = ctypes.c_void_p(), ctypes.c_void_p()
        self._tool_error = None
        status = self._lib.stemma_agent_run(self.handle, _lib.encode(task, "task"),
                                            ctypes.byref(answer), ctypes.byref(trace))
        error = error_for(status, self._lib) if status != 0 else None
        answer_text = _lib.take_text(self._lib, answer)
        trace_text = _lib.take_text(self._lib, trace)
        steps = json.loads(trace_text) if trace_text else []
        if self._tool_error is not None:
            tool_error, self._tool_error = self._tool_error, None
            raise tool_error from error
        if error is not None:
            error.trace = steps
            raise error
        return AgentResult(answer_text, steps)


__all__ = ["Agent", "AgentResult", "StemmaError"]
