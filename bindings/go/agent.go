package stemma

/*
#include <stdlib.h>
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// AgentOptions configures an agent; the zero value means the library's defaults.
type AgentOptions struct {
	SystemPrompt string  // "": a generic one that lists the tools
	MaxSteps     int     // model turns at most (tool calls + final answer); 0: 8
	MaxTokens    int     // per model turn; 0: 256
	Temperature  float32 // 0: greedy
	Seed         uint64
	AnswerSchema string // "": the final answer is free text; else JSON valid under this schema
	ToolChoice   ToolChoice
}

// ToolChoice says whether a model turn may, must or must not call a tool.
type ToolChoice int32

const (
	ToolChoiceAuto     ToolChoice = C.STEMMA_TOOL_CHOICE_AUTO     // a tool call or the answer
	ToolChoiceRequired ToolChoice = C.STEMMA_TOOL_CHOICE_REQUIRED // every turn calls a tool
	ToolChoiceNone     ToolChoice = C.STEMMA_TOOL_CHOICE_NONE     // answer without tools
)

// ToolFunc implements a tool: it gets the arguments as JSON text (valid under the tool's
// schema) and returns the result given to the model (text or JSON). An error ends the run;
// Agent.Run then returns it (wrapped with the tool's name). It runs on the goroutine that
// called Agent.Run.
type ToolFunc func(argumentsJSON string) (string, error)

// Agent runs a tool-calling loop on an engine: the model's tool calls are generated under each
// tool's JSON schema, so they always parse.
type Agent struct {
	h     handle
	runMu sync.Mutex // one Run at a time: tools report into the run in progress
	tools *agentTools
}

// agentTools are an agent's tools and their cgo.Handles, deleted when the C agent is freed (a
// struct of its own so the free function need not refer to the Agent, which has a finalizer).
type agentTools struct {
	mu    sync.Mutex
	tools []*toolState
	hs    handles
}

// agentRun collects what the tools report during one Run.
type agentRun struct {
	toolErr  error
	panicked bool
	panicVal any
}

// NewAgent makes an agent on the engine. opts may be nil.
func (e *Engine) NewAgent(opts *AgentOptions) (*Agent, error) {
	var co C.stemma_agent_options
	C.stemma_go_agent_options_init(&co)
	if opts != nil {
		sys, err := optCString("system prompt", opts.SystemPrompt)
		if err != nil {
			return nil, err
		}
		defer freeC(sys)
		schema, err := optCString("answer schema", opts.AnswerSchema)
		if err != nil {
			return nil, err
		}
		defer freeC(schema)
		co.system_prompt, co.answer_schema = sys, schema
		co.tool_choice = C.int32_t(opts.ToolChoice)
		if opts.MaxSteps != 0 {
			co.max_steps = C.int32_t(opts.MaxSteps)
		}
		if opts.MaxTokens != 0 {
			co.max_tokens = C.int32_t(opts.MaxTokens)
		}
		if opts.Temperature != 0 {
			co.temperature = C.float(opts.Temperature)
		}
		if opts.Seed != 0 {
			co.seed = C.uint64_t(opts.Seed)
		}
	}
	ep, eh, err := e.adopt()
	if err != nil {
		return nil, err
	}
	var ptr *C.stemma_agent
	if err := call(func() C.stemma_status { return C.stemma_agent_new(ep, &co, &ptr) }); err != nil {
		eh.release()
		return nil, err
	}
	tools := &agentTools{}
	a := &Agent{tools: tools}
	a.h.init(unsafe.Pointer(ptr), func(p unsafe.Pointer) {
		C.stemma_agent_free((*C.stemma_agent)(p))
		// The C agent is gone, so no tool can be called any more.
		tools.mu.Lock()
		tools.hs.release()
		tools.hs, tools.tools = nil, nil
		tools.mu.Unlock()
	}, eh)
	runtime.SetFinalizer(a, (*Agent).Close)
	return a, nil
}

// Close frees the agent. Safe to call more than once.
func (a *Agent) Close() error {
	if a != nil && a.h.close() {
		runtime.SetFinalizer(a, nil)
	}
	return nil
}

func (a *Agent) acquire() (*C.stemma_agent, error) {
	if a == nil {
		return nil, ErrClosed
	}
	p, err := a.h.acquire()
	return (*C.stemma_agent)(p), err
}

// AddTool registers a tool: its name, what it does (shown to the model) and the JSON Schema of
// its arguments.
func (a *Agent) AddTool(name, description, parametersSchemaJSON string, fn ToolFunc) error {
	if fn == nil {
		return &Error{Status: InvalidArgument, Message: "tool " + name + " has no function"}
	}
	p, err := a.acquire()
	if err != nil {
		return err
	}
	defer a.h.release()
	var cs [3]*C.char
	for i, s := range [3][2]string{{"name", name}, {"description", description}, {"parameters schema", parametersSchemaJSON}} {
		if cs[i], err = cstring(s[0], s[1]); err != nil {
			break
		}
		defer freeC(cs[i])
	}
	if err != nil {
		return err
	}
	t := &toolState{name: name, fn: fn}
	th := cgo.NewHandle(t)
	if err := call(func() C.stemma_status {
		return C.stemma_go_agent_add_tool(p, cs[0], cs[1], cs[2], C.uintptr_t(th))
	}); err != nil {
		th.Delete()
		return err
	}
	a.tools.mu.Lock()
	a.tools.tools = append(a.tools.tools, t)
	a.tools.hs = append(a.tools.hs, th)
	a.tools.mu.Unlock()
	return nil
}

// TraceStep is one step of a run: a tool call (Name, Arguments, Result) or the answer (Text).
type TraceStep struct {
	Step      int             `json:"step"`
	Kind      string          `json:"kind"` // "tool_call" or "answer"
	Name      string          `json:"name,omitempty"`
	Arguments json.RawMessage `json:"arguments,omitempty"` // the JSON value the model generated
	Result    string          `json:"result,omitempty"`    // what the tool returned
	Text      string          `json:"text,omitempty"`
}

// AgentResult is a finished run.
type AgentResult struct {
	Answer string
	Trace  []TraceStep
}

// Run runs the loop for task until the model answers; an error matching
// ErrResourceExhausted means max_steps was reached.
func (a *Agent) Run(task string) (AgentResult, error) {
	p, err := a.acquire()
	if err != nil {
		return AgentResult{}, err
	}
	defer a.h.release()
	ctask, err := cstring("task", task)
	if err != nil {
		return AgentResult{}, err
	}
	defer freeC(ctask)
	a.runMu.Lock()
	defer a.runMu.Unlock()
	run := &agentRun{}
	a.setRun(run)
	defer a.setRun(nil)
	var answer, trace *C.char
	err = call(func() C.stemma_status { return C.stemma_agent_run(p, ctask, &answer, &trace) })
	res := AgentResult{Answer: takeString(answer)}
	traceJSON := takeString(trace)
	if run.panicked {
		panic(run.panicVal)
	}
	if run.toolErr != nil {
		return res, run.toolErr // the run ended because of it (the C side saw STEMMA_CANCELLED)
	}
	if traceJSON != "" {
		if jerr := json.Unmarshal([]byte(traceJSON), &res.Trace); jerr != nil && err == nil {
			err = &Error{Status: Internal, Message: "agent trace is not a JSON array of steps: " + jerr.Error()}
		}
	}
	return res, err
}

func (a *Agent) setRun(run *agentRun) {
	a.tools.mu.Lock()
	for _, t := range a.tools.tools {
		t.run = run
	}
	a.tools.mu.Unlock()
}
