package stemma

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// childResult is what the resuming process reports.
type childResult struct {
	Before []Message `json:"before"`
	Reply  string    `json:"reply"`
	After  []Message `json:"after"`
}

// runChild is the second process of TestChatPersistsAcrossProcesses: it resumes the session
// from the store file and sends one more message.
func runChild(mode string) int {
	if mode != "chat-resume" {
		fmt.Fprintln(os.Stderr, "unknown child mode", mode)
		return 2
	}
	fail := func(err error) int { fmt.Fprintln(os.Stderr, err); return 1 }
	id, err := strconv.ParseInt(os.Getenv("STEMMA_CHAT_ID"), 10, 64)
	if err != nil {
		return fail(err)
	}
	e, err := Open(modelPath(), &EngineOptions{Threads: 2})
	if err != nil {
		return fail(err)
	}
	defer e.Close()
	store, err := OpenChatStore(os.Getenv("STEMMA_CHAT_DB"))
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	chat, err := e.ResumeChat(store, id)
	if err != nil {
		return fail(err)
	}
	defer chat.Close()
	var res childResult
	if res.Before, err = chat.History(); err != nil {
		return fail(err)
	}
	if res.Reply, err = chat.Send("And how long is the warranty?", &GenOptions{MaxTokens: 24}, nil); err != nil {
		return fail(err)
	}
	if res.After, err = chat.History(); err != nil {
		return fail(err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return fail(err)
	}
	return 0
}

func TestChatPersistsAcrossProcesses(t *testing.T) {
	e := engine(t)
	db := filepath.Join(t.TempDir(), "chats.db")
	store, err := OpenChatStore(db)
	if err != nil {
		t.Fatal(err)
	}
	chat, err := e.NewChat(store, faqSystemPrompt)
	if err != nil {
		t.Fatal(err)
	}
	var streamed string
	reply, err := chat.Send("How do I reset my hub?", &GenOptions{MaxTokens: 24}, func(p string) bool {
		streamed += p
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if reply == "" || streamed != reply {
		t.Fatalf("reply %q, streamed %q", reply, streamed)
	}
	id, err := chat.ID()
	if err != nil {
		t.Fatal(err)
	}
	history, err := chat.History()
	if err != nil {
		t.Fatal(err)
	}
	chat.Close()
	store.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STEMMA_GO_CHILD=chat-resume", "STEMMA_CHAT_DB="+db,
		"STEMMA_CHAT_ID="+strconv.FormatInt(id, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("resuming process: %v", err)
	}
	var res childResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	// The new process sees exactly the history this one stored, then one more turn.
	if fmt.Sprint(res.Before) != fmt.Sprint(history) {
		t.Fatalf("resumed history %v, stored %v", res.Before, history)
	}
	last := history[len(history)-1]
	if last.Role != "assistant" || last.Content != reply {
		t.Fatalf("last stored message %v, reply was %q", last, reply)
	}
	n := len(history)
	if len(res.After) != n+2 || res.After[n].Role != "user" || res.After[n].Content != "And how long is the warranty?" ||
		res.After[n+1].Role != "assistant" || res.After[n+1].Content != res.Reply || res.Reply == "" {
		t.Fatalf("history after the resumed turn: %v (reply %q)", res.After, res.Reply)
	}

	// A new store handle in this process sees the resumed turn too.
	store2, err := OpenChatStore(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store2.Close()
	again, err := e.ResumeChat(store2, id)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	h2, err := again.History()
	if err != nil || fmt.Sprint(h2) != fmt.Sprint(res.After) {
		t.Fatalf("history from a new handle %v (%v), want %v", h2, err, res.After)
	}
}

func TestChatWithoutStore(t *testing.T) {
	chat, err := engine(t).NewChat(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	defer chat.Close()
	if _, err := chat.ID(); !errorsIs(err, ErrFailedPrecondition) {
		t.Fatalf("ID of an unpersisted chat: %v", err)
	}
	if _, err := engine(t).ResumeChat(nil, 1); !errorsIs(err, ErrInvalidArgument) {
		t.Fatalf("ResumeChat without a store: %v", err)
	}
}
