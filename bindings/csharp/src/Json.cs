using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Stemma
{
    public enum JsonKind { Null, Bool, Number, String, Array, Object }

    /// <summary>A parsed JSON value (the C ABI returns lists as JSON; mono's base libraries
    /// have no JSON reader, so this small one ships with the binding).</summary>
    public sealed class JsonValue
    {
        public JsonKind Kind { get; private set; }
        public bool Bool { get; private set; }
        public double Number { get; private set; }
        public string String { get; private set; }
        public IList<JsonValue> Items { get; private set; }
        /// <summary>Object members in document order.</summary>
        public IList<KeyValuePair<string, JsonValue>> Members { get; private set; }

        internal JsonValue(JsonKind kind) { Kind = kind; }

        internal static JsonValue Of(bool b) { return new JsonValue(JsonKind.Bool) { Bool = b }; }
        internal static JsonValue Of(double n) { return new JsonValue(JsonKind.Number) { Number = n }; }
        internal static JsonValue Of(string s) { return new JsonValue(JsonKind.String) { String = s }; }
        internal static JsonValue Of(List<JsonValue> items) { return new JsonValue(JsonKind.Array) { Items = items }; }
        internal static JsonValue Of(List<KeyValuePair<string, JsonValue>> members)
        {
            return new JsonValue(JsonKind.Object) { Members = members };
        }

        /// <summary>The member `key` of an object; null if missing or not an object.</summary>
        public JsonValue this[string key]
        {
            get
            {
                if (Kind != JsonKind.Object)
                    return null;
                foreach (var m in Members)
                    if (m.Key == key)
                        return m.Value;
                return null;
            }
        }

        public string AsString(string fallback = null) { return Kind == JsonKind.String ? String : fallback; }
        public long AsLong(long fallback = 0) { return Kind == JsonKind.Number ? (long)Number : fallback; }

        /// <summary>Compact JSON text of the value.</summary>
        public override string ToString()
        {
            var sb = new StringBuilder();
            Write(sb);
            return sb.ToString();
        }

        void Write(StringBuilder sb)
        {
            switch (Kind)
            {
                case JsonKind.Null: sb.Append("null"); break;
                case JsonKind.Bool: sb.Append(Bool ? "true" : "false"); break;
                case JsonKind.Number: sb.Append(Number.ToString("R", CultureInfo.InvariantCulture)); break;
                case JsonKind.String: sb.Append(Json.Quote(String)); break;
                case JsonKind.Array:
                    sb.Append('[');
                    for (int i = 0; i < Items.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        Items[i].Write(sb);
                    }
                    sb.Append(']');
                    break;
                case JsonKind.Object:
                    sb.Append('{');
                    for (int i = 0; i < Members.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        sb.Append(Json.Quote(Members[i].Key)).Append(':');
                        Members[i].Value.Write(sb);
                    }
                    sb.Append('}');
                    break;
            }
        }
    }

    /// <summary>Why a text is not JSON, with the character offset.</summary>
    public sealed class JsonException : FormatException
    {
        public int Offset { get; private set; }
        public JsonException(int offset, string message) : base("invalid JSON at " + offset + ": " + message)
        {
            Offset = offset;
        }
    }

    public static class Json
    {
        /// <summary>Parses one JSON value (RFC 8259); only whitespace may follow it.</summary>
        public static JsonValue Parse(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            var p = new Parser(text);
            JsonValue v = p.Value(0);
            p.Ws();
            if (p.I != text.Length) throw new JsonException(p.I, "trailing characters after the value");
            return v;
        }

        /// <summary>s as a JSON string literal, quotes included.</summary>
        public static string Quote(string s)
        {
            var sb = new StringBuilder(s.Length + 2);
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4"));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        sealed class Parser
        {
            readonly string s;
            internal int I;
            const int MaxDepth = 512;

            internal Parser(string s) { this.s = s; }

            JsonException Err(string m) { return new JsonException(I, m); }

            internal void Ws()
            {
                while (I < s.Length && (s[I] == ' ' || s[I] == '\t' || s[I] == '\n' || s[I] == '\r')) I++;
            }

            internal JsonValue Value(int depth)
            {
                if (depth > MaxDepth) throw Err("nested too deeply");
                Ws();
                if (I >= s.Length) throw Err("unexpected end of text");
                char c = s[I];
                if (c == 'n') return Literal("null", new JsonValue(JsonKind.Null));
                if (c == 't') return Literal("true", JsonValue.Of(true));
                if (c == 'f') return Literal("false", JsonValue.Of(false));
                if (c == '"') return JsonValue.Of(Str());
                if (c == '[') return Arr(depth);
                if (c == '{') return Obj(depth);
                if (c == '-' || (c >= '0' && c <= '9')) return Num();
                throw Err("unexpected character");
            }

            JsonValue Literal(string word, JsonValue v)
            {
                if (string.CompareOrdinal(s, I, word, 0, word.Length) != 0) throw Err("unknown literal");
                I += word.Length;
                return v;
            }

            JsonValue Arr(int depth)
            {
                I++;
                var items = new List<JsonValue>();
                Ws();
                if (I < s.Length && s[I] == ']') { I++; return JsonValue.Of(items); }
                while (true)
                {
                    items.Add(Value(depth + 1));
                    Ws();
                    if (I < s.Length && s[I] == ',') { I++; continue; }
                    if (I < s.Length && s[I] == ']') { I++; return JsonValue.Of(items); }
                    throw Err("expected ',' or ']' in an array");
                }
            }

            JsonValue Obj(int depth)
            {
                I++;
                var members = new List<KeyValuePair<string, JsonValue>>();
                Ws();
                if (I < s.Length && s[I] == '}') { I++; return JsonValue.Of(members); }
                while (true)
                {
                    Ws();
                    if (I >= s.Length || s[I] != '"') throw Err("expected a string key in an object");
                    string key = Str();
                    Ws();
                    if (I >= s.Length || s[I] != ':') throw Err("expected ':' after an object key");
                    I++;
                    members.Add(new KeyValuePair<string, JsonValue>(key, Value(depth + 1)));
                    Ws();
                    if (I < s.Length && s[I] == ',') { I++; continue; }
                    if (I < s.Length && s[I] == '}') { I++; return JsonValue.Of(members); }
                    throw Err("expected ',' or '}' in an object");
                }
            }

            int Digits()
            {
                int start = I;
                while (I < s.Length && s[I] >= '0' && s[I] <= '9') I++;
                return I - start;
            }

            JsonValue Num()
            {
                int start = I;
                if (s[I] == '-') I++;
                if (I < s.Length && s[I] == '0') I++;
                else if (Digits() == 0) throw Err("expected digits");
                if (I < s.Length && s[I] == '.')
                {
                    I++;
                    if (Digits() == 0) throw Err("expected digits after '.'");
                }
                if (I < s.Length && (s[I] == 'e' || s[I] == 'E'))
                {
                    I++;
                    if (I < s.Length && (s[I] == '+' || s[I] == '-')) I++;
                    if (Digits() == 0) throw Err("expected digits in the exponent");
                }
                return JsonValue.Of(double.Parse(s.Substring(start, I - start), NumberStyles.Float, CultureInfo.InvariantCulture));
            }

            string Str()
            {
                I++;
                var sb = new StringBuilder();
                while (true)
                {
                    if (I >= s.Length) throw Err("unterminated string");
                    char c = s[I++];
                    if (c == '"') return sb.ToString();
                    if (c < 0x20) { I--; throw Err("control character in a string"); }
                    if (c != '\\') { sb.Append(c); continue; }
                    if (I >= s.Length) throw Err("unterminated escape");
                    char e = s[I++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (I + 4 > s.Length) throw Err("short \\u escape");
                            int code;
                            if (!int.TryParse(s.Substring(I, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out code))
                                throw Err("bad hex digits in \\u escape");
                            I += 4;
                            sb.Append((char)code);
                            break;
                        default: I--; throw Err("unknown escape");
                    }
                }
            }
        }
    }
}
