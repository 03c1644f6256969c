package stemma

/*
#include "stemma.h"
#include "trampolines.h"
*/
import "C"

import (
	"encoding/json"
	"runtime"
	"unsafe"
)

// ChatStore is a SQLite file of chat sessions.
type ChatStore struct {
	h handle
}

// OpenChatStore opens (creating if missing) a chat store file; ":memory:" for a private
// in-memory store.
func OpenChatStore(path string) (*ChatStore, error) {
	cpath, err := cstring("path", path)
	if err != nil {
		return nil, err
	}
	defer freeC(cpath)
	var ptr *C.stemma_chat_store
	if err := call(func() C.stemma_status { return C.stemma_chat_store_open(cpath, &ptr) }); err != nil {
		return nil, err
	}
	s := &ChatStore{}
	s.h.init(unsafe.Pointer(ptr), func(p unsafe.Pointer) { C.stemma_chat_store_free((*C.stemma_chat_store)(p)) })
	runtime.SetFinalizer(s, (*ChatStore).Close)
	return s, nil
}

// Close frees the store once the chats using it are closed. Safe to call more than once.
func (s *ChatStore) Close() error {
	if s != nil && s.h.close() {
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// Chat is a multi-turn session on an engine, persisted in a ChatStore (or not persisted).
type Chat struct {
	h handle
}

func (e *Engine) openChat(store *ChatStore, f func(*C.stemma_engine, *C.stemma_chat_store, **C.stemma_chat) C.stemma_status) (*Chat, error) {
	ep, eh, err := e.adopt()
	if err != nil {
		return nil, err
	}
	parents := []*handle{eh}
	var sp *C.stemma_chat_store
	if store != nil {
		p, err := store.h.acquire()
		if err != nil {
			eh.release()
			return nil, err
		}
		sp = (*C.stemma_chat_store)(p)
		parents = append(parents, &store.h)
	}
	var ptr *C.stemma_chat
	if err := call(func() C.stemma_status { return f(ep, sp, &ptr) }); err != nil {
		for _, p := range parents {
			p.release()
		}
		return nil, err
	}
	c := &Chat{}
	c.h.init(unsafe.Pointer(ptr), func(p unsafe.Pointer) { C.stemma_chat_free((*C.stemma_chat)(p)) }, parents...)
	runtime.SetFinalizer(c, (*Chat).Close)
	return c, nil
}

// NewChat starts a session. store may be nil (not persisted); systemPrompt may be "".
func (e *Engine) NewChat(store *ChatStore, systemPrompt string) (*Chat, error) {
	csys, err := optCString("system prompt", systemPrompt)
	if err != nil {
		return nil, err
	}
	defer freeC(csys)
	return e.openChat(store, func(ep *C.stemma_engine, sp *C.stemma_chat_store, out **C.stemma_chat) C.stemma_status {
		return C.stemma_chat_new(ep, sp, csys, out)
	})
}

// ResumeChat reopens session id from store.
func (e *Engine) ResumeChat(store *ChatStore, id int64) (*Chat, error) {
	if store == nil {
		return nil, &Error{Status: InvalidArgument, Message: "ResumeChat needs a store"}
	}
	return e.openChat(store, func(ep *C.stemma_engine, sp *C.stemma_chat_store, out **C.stemma_chat) C.stemma_status {
		return C.stemma_chat_resume(ep, sp, C.int64_t(id), out)
	})
}

// Close frees the session (its stored turns stay in the store). Safe to call more than once.
func (c *Chat) Close() error {
	if c != nil && c.h.close() {
		runtime.SetFinalizer(c, nil)
	}
	return nil
}

func (c *Chat) acquire() (*C.stemma_chat, error) {
	if c == nil {
		return nil, ErrClosed
	}
	p, err := c.h.acquire()
	return (*C.stemma_chat)(p), err
}

// ID is the session's id in its store (ErrFailedPrecondition when not persisted).
func (c *Chat) ID() (int64, error) {
	p, err := c.acquire()
	if err != nil {
		return 0, err
	}
	defer c.h.release()
	var id C.int64_t
	if err := call(func() C.stemma_status { return C.stemma_chat_id(p, &id) }); err != nil {
		return 0, err
	}
	return int64(id), nil
}

// Send adds the user's message, generates the reply (stored once complete) and returns it.
// opts and onPiece may be nil.
func (c *Chat) Send(userMessage string, opts *GenOptions, onPiece StreamFunc) (string, error) {
	p, err := c.acquire()
	if err != nil {
		return "", err
	}
	defer c.h.release()
	cmsg, err := cstring("user message", userMessage)
	if err != nil {
		return "", err
	}
	defer freeC(cmsg)
	co, err := opts.toC()
	if err != nil {
		return "", err
	}
	defer co.free()
	stream, sh := newStream(onPiece)
	if sh != 0 {
		defer sh.Delete()
	}
	var out *C.char
	err = call(func() C.stemma_status { return C.stemma_go_chat_send(p, cmsg, co.c, C.uintptr_t(sh), &out) })
	reply := takeString(out)
	return reply, stream.finish(err)
}

// History returns the session's messages, oldest first.
func (c *Chat) History() ([]Message, error) {
	p, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.h.release()
	var out *C.char
	if err := call(func() C.stemma_status { return C.stemma_chat_history(p, &out) }); err != nil {
		return nil, err
	}
	var msgs []Message
	if err := json.Unmarshal([]byte(takeString(out)), &msgs); err != nil {
		return nil, &Error{Status: Internal, Message: "chat history is not a JSON array of messages: " + err.Error()}
	}
	return msgs, nil
}
