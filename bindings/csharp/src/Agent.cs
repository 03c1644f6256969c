using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;

namespace Stemma
{
    /// <summary>Options for Engine.NewAgent; unset values are the library's defaults.</summary>
    public sealed class AgentOptions
    {
        /// <summary>null: a generic prompt that lists the tools.</summary>
        public string SystemPrompt { get; set; }
        /// <summary>Model turns at most (tool calls + final answer); default 8.</summary>
        public int? MaxSteps { get; set; }
        /// <summary>Tokens per model turn; default 256.</summary>
        public int? MaxTokens { get; set; }
        public float? Temperature { get; set; }
        public ulong? Seed { get; set; }
        /// <summary>null: the final answer is free text; else JSON valid under this schema.</summary>
        public string AnswerSchema { get; set; }
        /// <summary>Whether a turn may, must or must not call a tool; default Auto.</summary>
        public ToolChoice? ToolChoice { get; set; }
    }

    /// <summary>Whether a model turn may, must or must not call a tool.</summary>
    public enum ToolChoice
    {
        /// <summary>A tool call or the final answer.</summary>
        Auto = 0,
        /// <summary>Every turn calls a tool (the run ends at MaxSteps).</summary>
        Required = 1,
        /// <summary>The first turn is the final answer.</summary>
        None = 2,
    }

    /// <summary>One step of a run: a tool call (Name, Arguments, Result) or the answer (Text).</summary>
    public sealed class TraceStep
    {
        public long Step { get; internal set; }
        /// <summary>"tool_call" or "answer".</summary>
        public string Kind { get; internal set; }
        public string Name { get; internal set; }
        /// <summary>The JSON value the model generated as the arguments (tool calls only).</summary>
        public JsonValue Arguments { get; internal set; }
        /// <summary>What the tool returned (tool calls only).</summary>
        public string Result { get; internal set; }
        public string Text { get; internal set; }
    }

    public sealed class AgentRun
    {
        public string Answer { get; internal set; }
        public IList<TraceStep> Trace { get; internal set; }
    }

    /// <summary>A tool-calling loop on an engine; the model's tool calls are generated under each
    /// tool's JSON schema, so their arguments always parse.</summary>
    public sealed class Agent : IDisposable
    {
        readonly AgentHandle h;
        // The tools, referenced by the handle (C keeps their delegates' pointers until it is freed).
        readonly List<object> tools;

        sealed class Tool
        {
            internal string Name;
            internal Func<string, string> Fn;
            internal NativeToolFn Thunk;
            internal ExceptionDispatchInfo Error;

            internal int Call(IntPtr userData, IntPtr argumentsJson, IntPtr result)
            {
                try
                {
                    string output = Fn(Utf8.Read(argumentsJson));
                    // A failure here ends the run with this status and its message.
                    return Native.stemma_tool_result_set(result, Utf8.Z("tool result", output ?? ""));
                }
                catch (Exception e)
                {
                    Error = ExceptionDispatchInfo.Capture(e);
                    return (int)Status.Cancelled;
                }
            }
        }

        internal Agent(AgentHandle h)
        {
            this.h = h;
            tools = h.Tools;
        }

        AgentHandle handle
        {
            get
            {
                h.ThrowIfClosed("Agent");
                return h;
            }
        }

        public void Dispose()
        {
            h.CloseOnce();
        }

        /// <summary>Registers a tool: its name, what it does (shown to the model), the JSON Schema
        /// of its arguments, and fn, called with the arguments as JSON text on the thread that
        /// called Run; what it returns (text or JSON) is given to the model. An exception from fn
        /// ends the run: Run throws a StemmaException with it as InnerException.</summary>
        public void AddTool(string name, string description, string parametersSchemaJson, Func<string, string> fn)
        {
            if (fn == null) throw new ArgumentNullException("fn");
            var tool = new Tool { Name = name, Fn = fn };
            tool.Thunk = tool.Call;
            lock (tools) tools.Add(tool);
            Native.Check(Native.stemma_agent_add_tool(handle, Utf8.Z("name", name), Utf8.Z("description", description),
                                                      Utf8.Z("parametersSchemaJson", parametersSchemaJson), tool.Thunk, IntPtr.Zero));
        }

        /// <summary>Runs the loop for task until the model answers (StemmaException
        /// ResourceExhausted when MaxSteps is reached).</summary>
        public AgentRun Run(string task)
        {
            byte[] t = Utf8.Z("task", task);
            IntPtr answer, trace;
            int st = Native.stemma_agent_run(handle, t, out answer, out trace);
            string answerText = Utf8.Take(answer);
            string traceJson = Utf8.Take(trace);
            lock (tools)
            {
                foreach (object o in tools)
                {
                    var tool = (Tool)o;
                    if (tool.Error == null) continue;
                    ExceptionDispatchInfo e = tool.Error;
                    tool.Error = null;
                    throw new StemmaException(Status.Cancelled, "tool '" + tool.Name + "' failed: " + e.SourceException.Message,
                                              e.SourceException);
                }
            }
            Native.Check(st);
            var steps = new List<TraceStep>();
            if (traceJson != null)
            {
                foreach (JsonValue s in Json.Parse(traceJson).Items)
                {
                    JsonValue text = s["text"], name = s["name"], kind = s["kind"], step = s["step"];
                    steps.Add(new TraceStep
                    {
                        Step = step == null ? 0 : step.AsLong(), Kind = kind == null ? "" : kind.AsString(""),
                        Name = name == null ? "" : name.AsString(""), Arguments = s["arguments"], Result = s["result"] == null ? "" : s["result"].AsString(""),
                        Text = text == null ? "" : text.AsString(""),
                    });
                }
            }
            return new AgentRun { Answer = answerText ?? "", Trace = steps };
        }
    }

    public sealed partial class Engine
    {
        /// <summary>A new agent on this engine.</summary>
        public Agent NewAgent(AgentOptions options = null)
        {
            var o = Native.Init<NativeAgentOptions>(Native.stemma_agent_options_init);
            using (var strings = new NativeStrings())
            {
                if (options != null)
                {
                    o.SystemPrompt = strings.Add("SystemPrompt", options.SystemPrompt);
                    o.AnswerSchema = strings.Add("AnswerSchema", options.AnswerSchema);
                    if (options.MaxSteps.HasValue) o.MaxSteps = options.MaxSteps.Value;
                    if (options.MaxTokens.HasValue) o.MaxTokens = options.MaxTokens.Value;
                    if (options.Temperature.HasValue) o.Temperature = options.Temperature.Value;
                    if (options.Seed.HasValue) o.Seed = options.Seed.Value;
                    if (options.ToolChoice.HasValue) o.ToolChoice = (int)options.ToolChoice.Value;
                }
                AgentHandle h;
                int st = Native.stemma_agent_new(Handle, ref o, out h);
                if (st != 0)
                {
                    h.Dispose();
                    Native.Check(st);
                }
                h.DependOn(Handle);
                return new Agent(h);
            }
        }
    }
}
