package stemma

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// The demo model's system prompt (docs/demo-model.md): the shared prefix it was trained with.
const faqSystemPrompt = `You are Lumi, the customer support assistant of Lumora Home, a maker of smart home devices. Answer only from the FAQ context. Reply with one JSON object: {"answer": "...", "source_ids": ["faq-..."], "escalate": false}. If the context does not answer the question, reply with escalate true and empty source_ids. Tools: lookup_order(order_id) for an order number like LM-123456, and create_ticket(summary) when the customer asks for a human or a ticket. To call a tool, reply with <tool_call>{"name": "...", "arguments": {...}}</tool_call>.`

func modelPath() string {
	if p := os.Getenv("STEMMA_TEST_MODEL"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "models", "stemma-faq.gguf")
}

func repoPath(rel string) string {
	if root := os.Getenv("STEMMA_SOURCE_DIR"); root != "" {
		return filepath.Join(root, rel)
	}
	return filepath.Join("..", "..", rel)
}

// evalTask returns an eval item's user turn together with its retrieval context, as the agent's
// task: the agent renders system + user, so with the context riding in the user turn its first
// prompt is the eval prompt the model was trained on (the model never saw a user turn without a
// context block).
func evalTask(t *testing.T, id string) string {
	t.Helper()
	// The eval prompts the model's behaviour was measured on (tests/fixtures/faq-model).
	f, err := os.Open(repoPath("tests/fixtures/faq-model/hf_greedy_prompts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var row struct{ ID, Prompt string }
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		if row.ID == id {
			task := strings.SplitN(row.Prompt, "<|im_start|>user\n", 2)[1]
			return strings.TrimSuffix(task, "<|im_end|>\n<|im_start|>assistant\n")
		}
	}
	t.Fatalf("no eval prompt %s", id)
	return ""
}

var (
	sharedOnce   sync.Once
	sharedEngine *Engine
	sharedErr    error
)

// engine returns one engine shared by the tests (opening the model once keeps them fast).
func engine(t *testing.T) *Engine {
	t.Helper()
	sharedOnce.Do(func() { sharedEngine, sharedErr = Open(modelPath(), &EngineOptions{Threads: 2}) })
	if sharedErr != nil {
		t.Fatalf("open %s: %v", modelPath(), sharedErr)
	}
	return sharedEngine
}

func TestMain(m *testing.M) {
	var code int
	if child := os.Getenv("STEMMA_GO_CHILD"); child != "" {
		code = runChild(child)
	} else {
		code = m.Run()
	}
	if sharedEngine != nil {
		sharedEngine.Close()
	}
	// Let finalizers free what tests dropped, then look for C memory nobody freed (only in a
	// sanitizer build; see leakCheck).
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(20 * time.Millisecond)
	}
	if leakCheck() {
		fmt.Fprintln(os.Stderr, "LeakSanitizer found leaks (above)")
		code = 1
	}
	os.Exit(code)
}

// chatPrompt renders one user turn after the demo's system prompt, ready for the reply.
func chatPrompt(t *testing.T, e *Engine, user string) string {
	t.Helper()
	p, err := e.ChatFormat([]Message{{"system", faqSystemPrompt}, {"user", user}}, "", true)
	if err != nil {
		t.Fatalf("ChatFormat: %v", err)
	}
	return p
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
