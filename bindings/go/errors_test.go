package stemma

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestBadModelPathIsATypedError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-model.gguf")
	e, err := Open(path, nil)
	if e != nil || err == nil {
		t.Fatalf("Open of a missing file: %v, %v", e, err)
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %T is not *stemma.Error", err)
	}
	// The message is stemma_last_error()'s, which names the file.
	if se.Status != NotFound && se.Status != IOError || !strings.Contains(se.Message, path) {
		t.Fatalf("status %v, message %q", se.Status, se.Message)
	}
	// A file that is not a model: the library reports what is wrong with it.
	junk := filepath.Join(t.TempDir(), "junk.gguf")
	if err := os.WriteFile(junk, []byte("not a gguf file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(junk, nil); !errors.As(err, &se) || se.Message == "" {
		t.Fatalf("Open of a junk file: %v", err)
	}
}

func TestClosedAndNilHandlesAreRefused(t *testing.T) {
	var nilEngine *Engine
	if _, err := nilEngine.Generate("x", nil); err != ErrClosed {
		t.Fatalf("nil engine: %v", err)
	}
	var zero Engine
	if _, err := zero.Stats(); err != ErrClosed {
		t.Fatalf("zero engine: %v", err)
	}
	e, err := Open(modelPath(), &EngineOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.NewProgram()
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
	e.Close()
	if _, err := e.Tokenize("x", false); err != ErrClosed {
		t.Fatalf("Tokenize after Close: %v", err)
	}
	if _, err := e.NewProgram(); err != ErrClosed {
		t.Fatalf("NewProgram after Close: %v", err)
	}
	// The program keeps the C engine alive until it is closed itself.
	if err := p.Append("Hello"); err != nil {
		t.Fatalf("program of a closed engine: %v", err)
	}
	if _, err := p.Text(); err != nil {
		t.Fatal(err)
	}
	p.Close()
	var nilRag *Rag
	if _, err := nilRag.Search("x", 1); err != ErrClosed {
		t.Fatalf("nil rag: %v", err)
	}
	var nilChat *Chat
	if _, err := nilChat.Send("x", nil, nil); err != ErrClosed {
		t.Fatalf("nil chat: %v", err)
	}
	var nilAgent *Agent
	if _, err := nilAgent.Run("x"); err != ErrClosed {
		t.Fatalf("nil agent: %v", err)
	}
}

func TestLibraryRefusesBadInput(t *testing.T) {
	e := engine(t)
	// Invalid UTF-8 is refused by the library, which names the offset.
	_, err := e.Tokenize("ok\xffno", false)
	var se *Error
	if !errors.As(err, &se) || se.Status != InvalidArgument || !strings.Contains(se.Message, "2") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	// A NUL inside a Go string is refused before it reaches C (it would cut the text short).
	if _, err := e.Tokenize("a\x00b", false); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NUL byte: %v", err)
	}
	if _, err := e.Detokenize([]int32{1 << 30}); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("token outside the vocabulary: %v", err)
	}
	if _, err := e.Generate("x", &GenOptions{JSONSchema: "{not json"}); !errors.As(err, &se) || se.Message == "" {
		t.Fatalf("bad schema: %v", err)
	}
}

func TestFinalizersFreeDroppedHandles(t *testing.T) {
	before := handlesFreed.Load()
	func() {
		e, err := Open(modelPath(), &EngineOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := e.NewProgram()
		_ = p.Append("Hello")
		_ = p.Gen("x", &GenOptions{MaxTokens: 4}, func(string) bool { return true }) // still queued, maybe
		a, _ := e.NewAgent(nil)
		_ = a.AddTool("noop", "Does nothing", `{"type": "object"}`, func(string) (string, error) { return "", nil })
		s, _ := OpenChatStore(":memory:")
		c, _ := e.NewChat(s, "")
		r, _ := OpenRag(":memory:")
		_, _ = r.Search("x", 1)
		if p == nil || a == nil || c == nil || r == nil {
			t.Fatal("a handle failed to open")
		}
	}()
	// Engine, program, agent, chat store, chat, rag: six C objects, none closed by hand. The
	// finalizers free them, dependents first (a finalizer runs only once nothing else refers
	// to the object, and a dependent refers to its engine).
	deadline := time.Now().Add(10 * time.Second)
	for handlesFreed.Load()-before < 6 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if freed := handlesFreed.Load() - before; freed < 6 {
		t.Fatalf("finalizers freed %d of 6 dropped handles", freed)
	}
}
