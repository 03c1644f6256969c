package stemma

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestForkSharesThePrefix(t *testing.T) {
	e := engine(t)
	p, err := e.NewProgram()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Message("system", faqSystemPrompt); err != nil {
		t.Fatal(err)
	}
	if err := p.Message("user", "Where can I download the Lumora app?"); err != nil {
		t.Fatal(err)
	}
	prefix, err := p.Text()
	if err != nil {
		t.Fatal(err)
	}
	prefixTokens, err := e.Tokenize(prefix, true)
	if err != nil {
		t.Fatal(err)
	}
	before, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	forks, err := p.Fork(4)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	streamed := make([]strings.Builder, len(forks))
	for i, f := range forks {
		defer f.Close()
		i := i
		if err := f.RoleBegin("assistant"); err != nil {
			t.Fatal(err)
		}
		if err := f.Gen("reply", &GenOptions{MaxTokens: 12}, func(piece string) bool {
			mu.Lock()
			streamed[i].WriteString(piece)
			mu.Unlock()
			return true
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.RoleEnd(); err != nil {
			t.Fatal(err)
		}
	}
	if err := Join(forks...); err != nil {
		t.Fatal(err)
	}
	after, err := e.Stats()
	if err != nil {
		t.Fatal(err)
	}
	replies := make([]string, len(forks))
	for i, f := range forks {
		if replies[i], err = f.Get("reply"); err != nil {
			t.Fatal(err)
		}
		text, err := f.Text()
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		s := streamed[i].String()
		mu.Unlock()
		if replies[i] == "" || s != replies[i] || !strings.HasPrefix(text, prefix) || !strings.Contains(text[len(prefix):], replies[i]) {
			t.Fatalf("fork %d: reply %q, streamed %q, text %q", i, replies[i], s, text)
		}
		if replies[i] != replies[0] {
			t.Fatalf("greedy forks of one state differ: %q vs %q", replies[i], replies[0])
		}
	}
	// Four forks of one prefix: at least three of them are served the prefix from the cache
	// (less one page each at most, for the page the prefix ends in).
	cached := after.CachedTokens - before.CachedTokens
	want := int64(3 * (len(prefixTokens) - 16))
	t.Logf("prefix %d tokens, cached %d tokens during the forks (want >= %d)", len(prefixTokens), cached, want)
	if cached < want {
		t.Fatalf("cached %d prompt tokens during the forks, want >= %d", cached, want)
	}
	if _, err := forks[0].Get("never-set"); !errorsIs(err, ErrNotFound) {
		t.Fatalf("Get of an unset variable: %v", err)
	}
}

func TestSelectChoosesOneOfTheChoices(t *testing.T) {
	e := engine(t)
	p, err := e.NewProgram()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	choices := []string{"yes", "no"}
	if err := p.Append("Is the sky blue? Answer: "); err != nil {
		t.Fatal(err)
	}
	if err := p.Select("answer", choices...); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	got, err := p.Get("answer")
	if err != nil {
		t.Fatal(err)
	}
	if got != choices[0] && got != choices[1] {
		t.Fatalf("select gave %q", got)
	}
}

func TestRunBatch(t *testing.T) {
	e := engine(t)
	var mu sync.Mutex
	got := map[int]string{}
	err := e.RunBatch(3, 0, func(i int, p *Program) error {
		if err := p.Message("user", []string{"hi", "What is Lumora?", "Is there an app?"}[i]); err != nil {
			return err
		}
		if err := p.RoleBegin("assistant"); err != nil {
			return err
		}
		if err := p.Gen("out", &GenOptions{MaxTokens: 6}, nil); err != nil {
			return err
		}
		v, err := p.Get("out")
		mu.Lock()
		got[i] = v
		mu.Unlock()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0] == "" || got[1] == "" || got[2] == "" {
		t.Fatalf("batch results %q", got)
	}
	// An error from fn comes back as it was returned.
	errStop := &Error{Status: FailedPrecondition, Message: "stop here"}
	if err := e.RunBatch(2, 1, func(int, *Program) error { return errStop }); err != errStop {
		t.Fatalf("RunBatch returned %v, want fn's error", err)
	}
}

func TestProgramUseAfterClose(t *testing.T) {
	p, err := engine(t).NewProgram()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close() // twice is fine
	if err := p.Append("x"); err != ErrClosed {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := p.Fork(2); err != ErrClosed {
		t.Fatalf("Fork after Close: %v", err)
	}
}

func TestQueuedGenErrorSurfaces(t *testing.T) {
	p, err := engine(t).NewProgram()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A gen is queued: a bad schema is refused either when queued or by Wait, never lost.
	err = p.Gen("x", &GenOptions{JSONSchema: "{not json"}, nil)
	if err == nil {
		err = p.Wait()
	}
	var se *Error
	if !errors.As(err, &se) || se.Message == "" {
		t.Fatalf("bad schema in a queued gen: %v", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatalf("Wait clears the error it returned, got %v", err)
	}
}
