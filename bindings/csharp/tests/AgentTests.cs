using System;
using System.Collections.Generic;
using System.Linq;
using Stemma;

namespace StemmaTests
{
    static class AgentTests
    {
        // An eval item ("info on purchase LM-931386 please?") whose reference reply calls lookup_order.
        const string OrderEvalItem = "eval-193";
        const string OrderSchema = "{\"type\": \"object\", \"properties\": {\"order_id\": {\"type\": \"string\", \"pattern\": \"^LM-[0-9]{6}$\"}}, \"required\": [\"order_id\"]}";

        static string OrderResult(string id)
        {
            return "{\"order_id\": " + Json.Quote(id) + ", \"status\": \"shipped\", \"carrier\": \"UPS\", \"eta\": \"2026-12-03\"}";
        }

        static AgentOptions Options(int steps, int tokens)
        {
            return new AgentOptions { SystemPrompt = Env.FaqSystemPrompt, MaxSteps = steps, MaxTokens = tokens };
        }

        [Test]
        static void AgentCallsACSharpTool()
        {
            using (Agent agent = Env.Engine.NewAgent(Options(3, 96)))
            {
                var calls = new List<string>();
                agent.AddTool("lookup_order", "Look up an order by its number", OrderSchema, args =>
                {
                    string id = Json.Parse(args)["order_id"].String;
                    calls.Add(id);
                    return OrderResult(id);
                });
                // The 14M demo model calls lookup_order on this eval prompt (its HF greedy reply is
                // the call: tests/fixtures/faq-model); the task carries the message and its context.
                AgentRun run = agent.Run(Env.EvalTask(OrderEvalItem));
                Console.WriteLine("  answer " + run.Answer + ", " + run.Trace.Count + " steps");
                Check.True(calls.Count > 0, "the tool was called");
                foreach (string id in calls)
                    Check.True(id.Length == 9 && id.StartsWith("LM-", StringComparison.Ordinal) && id.Substring(3).All(char.IsDigit), "order id " + id);
                TraceStep step = run.Trace.First(s => s.Kind == "tool_call");
                Check.Equal("lookup_order", step.Name, "traced tool");
                Check.Equal(OrderResult(calls[0]), step.Result, "traced result");
                Check.Equal(calls[0], step.Arguments["order_id"].String, "traced arguments");
                Check.True(run.Answer.Length > 0, "answer");
            }
        }

        [Test]
        static void ToolExceptionEndsTheRun()
        {
            using (Agent agent = Env.Engine.NewAgent(Options(2, 64)))
            {
                agent.AddTool("lookup_order", "Look up an order", OrderSchema, args => { throw new TimeoutException("order backend down"); });
                var e = Check.Throws<StemmaException>(() => agent.Run(Env.EvalTask(OrderEvalItem)), "run with a failing tool");
                Check.True(e.InnerException is TimeoutException, "inner exception " + e.InnerException);
                Check.True(e.Message.Contains("order backend down"), e.Message);
            }
        }
    }
}
