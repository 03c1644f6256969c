//! Agents: tools with JSON-Schema arguments, implemented in Rust.
use std::any::Any;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use crate::engine::{to_i32, Engine, EngineInner};
use crate::error::{check, Error, Result, Status};
use crate::gen::host_error;
use crate::json::{self, Value};
use crate::sys;
use crate::text::{cstring, init_struct, opt_cstring, opt_ptr, OwnedText};

/// What a tool returns on failure; the run ends and [`Agent::run`] returns it as the source of
/// its error.
pub type ToolError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Options for [`Engine::agent`]; `Default` (all `None`) means the library's defaults.
#[derive(Clone, Debug, Default)]
pub struct AgentOptions {
    /// None: a generic prompt that lists the tools.
    pub system_prompt: Option<String>,
    /// Model turns at most (tool calls + final answer); None: 8.
    pub max_steps: Option<u32>,
    /// Tokens per model turn; None: 256.
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub seed: Option<u64>,
    /// None: the final answer is free text; else JSON valid under this schema.
    pub answer_schema: Option<String>,
    /// Whether a turn may, must or must not call a tool; None: Auto.
    pub tool_choice: Option<ToolChoice>,
}

/// Whether a model turn may, must or must not call a tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolChoice {
    /// A tool call or the final answer.
    Auto = 0,
    /// Every turn calls a tool (the run ends at max_steps).
    Required = 1,
    /// The first turn is the final answer.
    None = 2,
}

/// One step of a run: a tool call (`name`, `arguments`, `result`) or the answer (`text`).
#[derive(Clone, Debug, PartialEq)]
pub struct TraceStep {
    pub step: i64,
    /// "tool_call" or "answer".
    pub kind: String,
    pub name: String,
    /// The JSON value the model generated as the arguments (tool calls only).
    pub arguments: Option<Value>,
    /// What the tool returned (tool calls only).
    pub result: String,
    pub text: String,
}

/// A finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentRun {
    pub answer: String,
    pub trace: Vec<TraceStep>,
}

type ToolFn = Box<dyn FnMut(&str) -> std::result::Result<String, ToolError> + Send>;

struct ToolCtx {
    name: String,
    f: ToolFn,
    error: Option<ToolError>,
    panic: Option<Box<dyn Any + Send>>,
}

/// A tool-calling loop on an engine. The model's tool calls are generated under each tool's
/// schema, so their arguments always parse.
pub struct Agent {
    raw: NonNull<sys::stemma_agent>,
    tools: Vec<*mut ToolCtx>,
    _engine: Arc<EngineInner>,
}

// SAFETY: one agent is used from one thread at a time (&mut self to run); its tools are Send.
unsafe impl Send for Agent {}

impl Drop for Agent {
    fn drop(&mut self) {
        // SAFETY: owned, freed only here; after it no tool can be called, so the contexts go.
        unsafe {
            sys::stemma_agent_free(self.raw.as_ptr());
            for t in self.tools.drain(..) {
                drop(Box::from_raw(t));
            }
        }
    }
}

impl Engine {
    /// A new agent on this engine.
    pub fn agent(&self, options: &AgentOptions) -> Result<Agent> {
        // SAFETY: a stemma.h struct that starts with struct_size.
        let mut o = unsafe { init_struct(sys::stemma_agent_options_init) };
        let system = opt_cstring("system prompt", options.system_prompt.as_deref())?;
        let schema = opt_cstring("answer schema", options.answer_schema.as_deref())?;
        o.system_prompt = opt_ptr(&system);
        o.answer_schema = opt_ptr(&schema);
        if let Some(n) = options.max_steps {
            o.max_steps = to_i32("max_steps", n.into())?;
        }
        if let Some(n) = options.max_tokens {
            o.max_tokens = to_i32("max_tokens", n.into())?;
        }
        if let Some(t) = options.temperature {
            o.temperature = t;
        }
        if let Some(s) = options.seed {
            o.seed = s;
        }
        if let Some(c) = options.tool_choice {
            o.tool_choice = c as i32;
        }
        let mut raw = ptr::null_mut();
        // SAFETY: o and its strings outlive the call.
        check(unsafe { sys::stemma_agent_new(self.ptr(), &o, &mut raw) })?;
        let raw =
            NonNull::new(raw).ok_or_else(|| Error::new(Status::Internal, "the library returned OK but no agent"))?;
        Ok(Agent { raw, tools: Vec::new(), _engine: self.inner.clone() })
    }
}

unsafe extern "C" fn tool_trampoline(
    user_data: *mut c_void,
    arguments_json: *const c_char,
    result: *mut sys::stemma_tool_result,
) -> sys::stemma_status {
    // SAFETY: user_data is the ToolCtx registered with this tool, alive while the agent is; tools
    // run on the thread that called stemma_agent_run, one at a time.
    let ctx = &mut *(user_data as *mut ToolCtx);
    let args = if arguments_json.is_null() {
        String::new()
    } else {
        std::ffi::CStr::from_ptr(arguments_json).to_string_lossy().into_owned()
    };
    let f = &mut ctx.f;
    match panic::catch_unwind(AssertUnwindSafe(|| f(&args))) {
        Ok(Ok(text)) => match cstring("tool result", &text) {
            // A failure of stemma_tool_result_set ends the run with its status and message.
            Ok(c) => sys::stemma_tool_result_set(result, c.as_ptr()),
            Err(e) => {
                ctx.error = Some(Box::new(e));
                sys::STEMMA_INVALID_ARGUMENT
            }
        },
        Ok(Err(e)) => {
            ctx.error = Some(e);
            sys::STEMMA_CANCELLED
        }
        Err(p) => {
            ctx.panic = Some(p);
            sys::STEMMA_CANCELLED
        }
    }
}

impl Agent {
    /// Registers a tool: its name, what it does (shown to the model), the JSON Schema of its
    /// arguments, and `f`, called with the arguments as JSON text; what it returns (text or
    /// JSON) is given to the model as the tool's result.
    pub fn add_tool<F>(&mut self, name: &str, description: &str, parameters_schema_json: &str, f: F) -> Result<()>
    where
        F: FnMut(&str) -> std::result::Result<String, ToolError> + Send + 'static,
    {
        let (cname, cdesc, cschema) = (
            cstring("name", name)?,
            cstring("description", description)?,
            cstring("parameters schema", parameters_schema_json)?,
        );
        let ctx = Box::into_raw(Box::new(ToolCtx { name: name.to_string(), f: Box::new(f), error: None, panic: None }));
        // SAFETY: the strings outlive the call; ctx lives until the agent is freed.
        let code = unsafe {
            sys::stemma_agent_add_tool(
                self.raw.as_ptr(),
                cname.as_ptr(),
                cdesc.as_ptr(),
                cschema.as_ptr(),
                Some(tool_trampoline),
                ctx as *mut c_void,
            )
        };
        // Kept until the agent is freed even if refused: simpler than knowing whether C kept it.
        self.tools.push(ctx);
        check(code)
    }

    /// Runs the loop for `task` until the model answers (Status::ResourceExhausted when
    /// max_steps is reached). A tool's error ends the run and is this error's source.
    pub fn run(&mut self, task: &str) -> Result<AgentRun> {
        let task = cstring("task", task)?;
        let mut answer = OwnedText::new();
        let mut trace = OwnedText::new();
        // SAFETY: task outlives the call; the outputs are library-owned text.
        let code = unsafe { sys::stemma_agent_run(self.raw.as_ptr(), task.as_ptr(), answer.out(), trace.out()) };
        let status = check(code);
        for &t in &self.tools {
            // SAFETY: the run is over, no C code holds the contexts now.
            let ctx = unsafe { &mut *t };
            if let Some(p) = ctx.panic.take() {
                panic::resume_unwind(p);
            }
            if let Some(e) = ctx.error.take() {
                return Err(host_error(format!("tool `{}` failed", ctx.name), e));
            }
        }
        status?;
        let steps = if trace.is_null() { Vec::new() } else { parse_trace(&trace.text())? };
        Ok(AgentRun { answer: answer.text(), trace: steps })
    }
}

fn parse_trace(text: &str) -> Result<Vec<TraceStep>> {
    let bad = |why: String| Error::new(Status::Internal, format!("agent trace from the library: {}", why));
    let v = json::parse(text).map_err(|e| bad(e.to_string()))?;
    let items = v.as_array().ok_or_else(|| bad("not an array".to_string()))?;
    Ok(items
        .iter()
        .map(|s| {
            let text = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            TraceStep {
                step: s.get("step").and_then(Value::as_i64).unwrap_or(0),
                kind: text("kind"),
                name: text("name"),
                arguments: s.get("arguments").cloned(),
                result: text("result"),
                text: text("text"),
            }
        })
        .collect())
}
