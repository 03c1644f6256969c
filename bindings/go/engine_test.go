package stemma

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestVersions(t *testing.T) {
	if got := LibraryABIVersion(); got != ABIVersion {
		t.Fatalf("library ABI %d, binding written for %d", got, ABIVersion)
	}
	if Version() == "" {
		t.Fatal("empty library version")
	}
	if NotFound.String() != "NOT_FOUND" {
		t.Fatalf("status name %q", NotFound.String())
	}
}

func TestModelInfo(t *testing.T) {
	info, err := engine(t).ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	// docs/demo-model.md: a llama model with a 4096-token vocabulary.
	if info["architecture"] != "llama" || info["vocab_size"] != float64(4096) {
		t.Fatalf("model info %v", info)
	}
}

func TestBackendChoice(t *testing.T) {
	// No GPU here: CUDA is refused naming it (Unsupported without the CUDA backend,
	// FailedPrecondition without a usable GPU); CPU and auto run on the CPU and say so.
	small := EngineOptions{Threads: 1, KVMemoryBytes: 16 << 20}
	cuda := small
	cuda.Backend = BackendCUDA
	_, err := Open(modelPath(), &cuda)
	if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrFailedPrecondition) {
		t.Fatalf("cuda without a GPU: %v", err)
	}
	if !strings.Contains(err.Error(), "cuda") {
		t.Fatalf("the error does not name cuda: %v", err)
	}
	bad := small
	bad.Backend = 7
	if _, err := Open(modelPath(), &bad); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("backend 7: %v", err)
	}
	cpu := small
	cpu.Backend = BackendCPU
	cpu.DisableSharedPrefixAttention = true
	e, err := Open(modelPath(), &cpu)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	info, err := e.ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	if info["backend"] != "cpu" || info["backend_note"] != "" {
		t.Fatalf("cpu: %v %v", info["backend"], info["backend_note"])
	}
	auto, err := engine(t).ModelInfo()
	if err != nil {
		t.Fatal(err)
	}
	note, _ := auto["backend_note"].(string)
	if auto["backend"] != "cpu" || !strings.HasPrefix(note, "auto: ") {
		t.Fatalf("auto: %v %v", auto["backend"], note)
	}
}

func TestGenerateStreamsPiecesThatMakeTheText(t *testing.T) {
	e := engine(t)
	prompt := chatPrompt(t, e, "How do I reset my Lumora hub?")
	var mu sync.Mutex
	var pieces []string
	gen, err := e.GenerateStream(prompt, &GenOptions{MaxTokens: 40}, func(piece string) bool {
		mu.Lock()
		pieces = append(pieces, piece)
		mu.Unlock()
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if gen.Text == "" || len(pieces) < 2 {
		t.Fatalf("text %q from %d pieces", gen.Text, len(pieces))
	}
	if joined := strings.Join(pieces, ""); joined != gen.Text {
		t.Fatalf("pieces make %q, text is %q", joined, gen.Text)
	}
	if gen.Finish != FinishStop && gen.Finish != FinishLength {
		t.Fatalf("finish %v", gen.Finish)
	}
	// Greedy decoding is deterministic: the same prompt gives the same text without a stream.
	again, err := e.Generate(prompt, &GenOptions{MaxTokens: 40})
	if err != nil || again.Text != gen.Text {
		t.Fatalf("second greedy run %q (%v), first %q", again.Text, err, gen.Text)
	}
}

func TestStreamCanCancel(t *testing.T) {
	e := engine(t)
	var got []string
	gen, err := e.GenerateStream(chatPrompt(t, e, "What is the warranty?"), &GenOptions{MaxTokens: 64},
		func(piece string) bool {
			got = append(got, piece)
			return len(got) < 3
		})
	if err != nil {
		t.Fatalf("a cancel asked for by the stream is no error, got %v", err)
	}
	if gen.Finish != FinishCancelled || len(got) != 3 || gen.Text != strings.Join(got, "") {
		t.Fatalf("finish %v, %d pieces %q, text %q", gen.Finish, len(got), got, gen.Text)
	}
}

func TestStreamPanicReachesCaller(t *testing.T) {
	e := engine(t)
	defer func() {
		if r := recover(); r != "boom" {
			t.Fatalf("recovered %v, want the callback's panic", r)
		}
	}()
	_, _ = e.GenerateStream("Hello", &GenOptions{MaxTokens: 8}, func(string) bool { panic("boom") })
	t.Fatal("GenerateStream returned after its callback panicked")
}

func TestJSONSchemaOutputParses(t *testing.T) {
	e := engine(t)
	schema := `{"type": "object", "properties": {"answer": {"type": "string", "maxLength": 60},
	  "escalate": {"type": "boolean"}}, "required": ["answer", "escalate"], "additionalProperties": false}`
	gen, err := e.Generate(chatPrompt(t, e, "Can I use the hub without WiFi?"), &GenOptions{MaxTokens: 120, JSONSchema: schema})
	if err != nil {
		t.Fatal(err)
	}
	var reply struct {
		Answer   *string `json:"answer"`
		Escalate *bool   `json:"escalate"`
	}
	dec := json.NewDecoder(strings.NewReader(gen.Text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reply); err != nil || reply.Answer == nil || reply.Escalate == nil {
		t.Fatalf("constrained output %q does not parse under the schema: %v", gen.Text, err)
	}
	if len([]rune(*reply.Answer)) > 60 {
		t.Fatalf("answer longer than maxLength: %q", *reply.Answer)
	}
}

func TestTokenizeRoundTrip(t *testing.T) {
	e := engine(t)
	text := "Hello, Lumora! Ünïcödé ✓ 42 <|im_start|>user\n"
	toks, err := e.Tokenize(text, false)
	if err != nil {
		t.Fatal(err)
	}
	back, err := e.Detokenize(toks)
	if err != nil || back != text {
		t.Fatalf("round trip gave %q (%v)", back, err)
	}
	// The special token in the text is one id: <|im_start|> is id 1 (docs/demo-model.md).
	found := false
	for _, id := range toks {
		found = found || id == 1
	}
	withBOS, err := e.Tokenize(text, true)
	if err != nil {
		t.Fatal(err)
	}
	// add_special puts BOS (<|endoftext|>, id 0) first and changes nothing else.
	if !found || len(withBOS) != len(toks)+1 || withBOS[0] != 0 {
		t.Fatalf("special token found %v; with BOS %v vs %v", found, withBOS, toks)
	}
	if empty, err := e.Detokenize(nil); err != nil || empty != "" {
		t.Fatalf("Detokenize(nil) = %q, %v", empty, err)
	}
}

func TestChatFormatMatchesTemplate(t *testing.T) {
	got, err := engine(t).ChatFormat([]Message{{"user", "hi"}}, "", true)
	if err != nil {
		t.Fatal(err)
	}
	// docs/demo-model.md: <|im_start|> + role + \n + content + <|im_end|> + \n, then the prompt.
	if want := "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestConcurrentGenerations(t *testing.T) {
	e := engine(t)
	prompt := chatPrompt(t, e, "Does the sensor need batteries?")
	ref, err := e.Generate(prompt, &GenOptions{MaxTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	texts := make([]string, 4)
	errs := make([]error, 4)
	for i := range texts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			g, err := e.Generate(prompt, &GenOptions{MaxTokens: 16})
			texts[i], errs[i] = g.Text, err
		}(i)
	}
	wg.Wait()
	for i := range texts {
		if errs[i] != nil || texts[i] != ref.Text {
			t.Fatalf("goroutine %d: %q (%v), alone: %q", i, texts[i], errs[i], ref.Text)
		}
	}
}
