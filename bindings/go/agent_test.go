package stemma

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// An eval item ("info on purchase LM-931386 please?") whose reference reply calls lookup_order.
const orderEvalItem = "eval-193"

const orderSchema = `{"type": "object", "properties": {"order_id": {"type": "string", "pattern": "^LM-[0-9]{6}$"}}, "required": ["order_id"]}`

func TestAgentCallsAGoTool(t *testing.T) {
	e := engine(t)
	agent, err := e.NewAgent(&AgentOptions{SystemPrompt: faqSystemPrompt, MaxSteps: 3, MaxTokens: 96})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	type call struct {
		OrderID string `json:"order_id"`
	}
	var calls []call
	var results []string
	err = agent.AddTool("lookup_order", "Look up an order by its number", orderSchema, func(args string) (string, error) {
		var c call
		if err := json.Unmarshal([]byte(args), &c); err != nil {
			t.Errorf("tool arguments %q do not parse: %v", args, err)
		}
		calls = append(calls, c)
		res := `{"order_id": "` + c.OrderID + `", "status": "shipped", "carrier": "UPS", "eta": "2026-12-03"}`
		results = append(results, res)
		return res, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The 14M demo model calls lookup_order on this eval prompt (its HF greedy reply is the call:
	// tests/fixtures/faq-model); the task carries the user's message and its context.
	run, err := agent.Run(evalTask(t, orderEvalItem))
	if err != nil && !errors.Is(err, ErrResourceExhausted) {
		t.Fatal(err)
	}
	t.Logf("answer %q, trace %+v", run.Answer, run.Trace)
	if len(calls) == 0 {
		t.Fatalf("the tool was never called; trace %+v", run.Trace)
	}
	for _, c := range calls {
		if !strings.HasPrefix(c.OrderID, "LM-") || len(c.OrderID) != 9 {
			t.Fatalf("order id %q does not match the schema's pattern", c.OrderID)
		}
	}
	var step *TraceStep
	for i := range run.Trace {
		if run.Trace[i].Kind == "tool_call" {
			step = &run.Trace[i]
			break
		}
	}
	if step == nil || step.Name != "lookup_order" || step.Result != results[0] {
		t.Fatalf("trace has no lookup_order call with the tool's result: %+v", run.Trace)
	}
	var traced call
	if err := json.Unmarshal(step.Arguments, &traced); err != nil || traced != calls[0] {
		t.Fatalf("traced arguments %s (%v), tool got %+v", step.Arguments, err, calls[0])
	}
	if err == nil && run.Answer == "" {
		t.Fatal("the run ended without an answer")
	}
}

func TestAgentToolErrorEndsTheRun(t *testing.T) {
	agent, err := engine(t).NewAgent(&AgentOptions{SystemPrompt: faqSystemPrompt, MaxSteps: 2, MaxTokens: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	errBackend := errors.New("order backend down")
	if err := agent.AddTool("lookup_order", "Look up an order", orderSchema, func(string) (string, error) {
		return "", errBackend
	}); err != nil {
		t.Fatal(err)
	}
	_, err = agent.Run(evalTask(t, orderEvalItem))
	if !errors.Is(err, errBackend) {
		t.Fatalf("Run returned %v, want the tool's error", err)
	}
}
