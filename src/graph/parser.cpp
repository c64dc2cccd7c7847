#include "graph/parser.hpp"

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

#include "graph/source_tree.hpp"
#include "graph/templates.hpp"

namespace agentd::graph {
namespace {

namespace json = boost::json;

std::string Join(std::initializer_list<std::string_view> names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool IsJsonType(std::string_view t) {
  return t == "string" || t == "number" || t == "integer" || t == "boolean" || t == "object" ||
         t == "array" || t == "null";
}

// Reads one graph document, adding every problem to diags.
class Reader {
 public:
  Reader(Diagnostics& diags, GraphDef& def) : diags_(diags), def_(def) {}

  void Error(Mark mark, const std::string& path, std::string message) {
    diags_.Add(mark, path, std::move(message));
  }

  // Unknown keys of a map (each named at its key).
  void AllowKeys(const SourceNode& map, const std::string& path, std::initializer_list<std::string_view> allowed,
                 std::string_view what) {
    for (const auto& e : map.entries) {
      if (std::find(allowed.begin(), allowed.end(), e.key) == allowed.end()) {
        Error(e.key_mark, Sub(path, e.key), fmt::format("unknown key in {} (expected {})", what, Join(allowed)));
      }
    }
  }

  static std::string Sub(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
  }
  static std::string Index(const std::string& path, std::size_t i) { return fmt::format("{}[{}]", path, i); }

  bool ExpectMap(const SourceNode& n, const std::string& path) {
    if (n.is_map()) return true;
    Error(n.mark, path, fmt::format("expected a map, got {}", n.Describe()));
    return false;
  }

  std::optional<std::string> String(const SourceNode* n, const std::string& path, bool required = false,
                                    Mark where = {}) {
    if (n == nullptr) {
      if (required) Error(where, path, "required");
      return std::nullopt;
    }
    if (!n->is_string()) {
      Error(n->mark, path, fmt::format("expected a string, got {}", n->Describe()));
      return std::nullopt;
    }
    std::string s(n->scalar.get_string());
    if (required && s.empty()) {
      Error(n->mark, path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::int64_t> Integer(const SourceNode* n, const std::string& path, std::int64_t min, std::int64_t max) {
    if (n == nullptr) return std::nullopt;
    if (n->kind != SourceNode::Kind::kScalar || !n->scalar.is_int64()) {
      Error(n->mark, path, fmt::format("expected an integer, got {}", n->Describe()));
      return std::nullopt;
    }
    const std::int64_t v = n->scalar.get_int64();
    if (v < min || v > max) {
      Error(n->mark, path, fmt::format("must be between {} and {}, got {}", min, max, v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> Number(const SourceNode* n, const std::string& path, double min, double max) {
    if (n == nullptr) return std::nullopt;
    if (n->kind != SourceNode::Kind::kScalar || !n->scalar.is_number()) {
      Error(n->mark, path, fmt::format("expected a number, got {}", n->Describe()));
      return std::nullopt;
    }
    const double v = n->scalar.to_number<double>();
    if (v < min || v > max) {
      Error(n->mark, path, fmt::format("must be between {} and {}, got {}", min, max, v));
      return std::nullopt;
    }
    return v;
  }

  // A name or a list of names (edge ends, input/output lists).
  std::vector<Ref> Names(const SourceNode& n, const std::string& path) {
    std::vector<Ref> out;
    if (n.is_string()) {
      out.push_back(Ref{std::string(n.scalar.get_string()), n.mark, path});
      return out;
    }
    if (!n.is_sequence() || n.items.empty()) {
      Error(n.mark, path, fmt::format("expected a name or a non-empty list of names, got {}", n.Describe()));
      return out;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const auto& item = n.items[i];
      if (!item.is_string()) {
        Error(item.mark, Index(path, i), fmt::format("expected a name, got {}", item.Describe()));
        continue;
      }
      out.push_back(Ref{std::string(item.scalar.get_string()), item.mark, Index(path, i)});
    }
    return out;
  }

  // Records every placeholder of every string under `n` (templates are checked by the validator).
  void CollectTemplates(const SourceNode& n, const std::string& path) {
    if (n.is_string()) {
      const std::string_view text = n.scalar.get_string();
      if (text.find("{{") == std::string_view::npos) return;
      auto placeholders = ParsePlaceholders(text);
      if (!placeholders) {
        Error(n.mark, path, placeholders.error().message);
        return;
      }
      for (const auto& p : *placeholders) {
        if (p.root == "item" && each_depth_ == 0) {
          Error(n.mark, path, "{{item}} is only defined inside the `do` of a `$each`");
        } else if (p.root == "resume" && !resume_scope_) {
          Error(n.mark, path, "{{resume}} is only defined in an interrupt node's `update`");
        }
        def_.templates.push_back(TemplateUse{p.root, p.path.empty() ? std::string() : p.path.front(), n.mark, path});
      }
    } else if (n.is_sequence()) {
      for (std::size_t i = 0; i < n.items.size(); ++i) CollectTemplates(n.items[i], Index(path, i));
    } else if (n.is_map()) {
      if (const SourceNode* each = n.Find(kEachKey)) {
        // {$each: "{{a list}}", do: <value per element>}
        AllowKeys(n, path, {kEachKey, kEachDoKey}, "a $each");
        if (!each->is_string()) Error(each->mark, Sub(path, kEachKey), "expected a placeholder naming a list");
        CollectTemplates(*each, Sub(path, kEachKey));
        if (const SourceNode* body = n.Find(kEachDoKey)) {
          ++each_depth_;
          CollectTemplates(*body, Sub(path, kEachDoKey));
          --each_depth_;
        } else {
          Error(n.mark, Sub(path, kEachDoKey), "required");
        }
        return;
      }
      for (const auto& e : n.entries) CollectTemplates(e.value, Sub(path, e.key));
    }
  }

  json::value Schema(const SourceNode& n, const std::string& path) {
    if (!n.is_map()) {
      Error(n.mark, path, fmt::format("expected a JSON Schema (a map), got {}", n.Describe()));
      return nullptr;
    }
    return ToJson(n);
  }

  json::value TypeSchema(const SourceNode& n, const std::string& path) {
    if (n.is_string()) {
      const std::string_view t = n.scalar.get_string();
      if (!IsJsonType(t)) {
        Error(n.mark, path,
              fmt::format("unknown type \"{}\" (expected string, number, integer, boolean, object, array or null)", t));
        return nullptr;
      }
      return json::object{{"type", t}};
    }
    if (n.is_sequence()) {
      json::array types;
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        const auto& item = n.items[i];
        if (!item.is_string() || !IsJsonType(item.scalar.get_string())) {
          Error(item.mark, Index(path, i), "expected a JSON Schema type name");
          continue;
        }
        types.push_back(item.scalar);
      }
      return json::object{{"type", std::move(types)}};
    }
    Error(n.mark, path, fmt::format("expected a type name, got {}", n.Describe()));
    return nullptr;
  }

  void State(const SourceNode& n) {
    if (!ExpectMap(n, "state")) return;
    for (const auto& e : n.entries) {
      const std::string path = Sub("state", e.key);
      ChannelDef c;
      c.name = e.key;
      c.mark = e.key_mark;
      if (e.key == "__start__" || e.key == "__end__" || e.key == "__interrupt__") {
        Error(e.key_mark, path, "reserved name");
      }
      if (e.value.kind == SourceNode::Kind::kNull) {
        c.schema = json::object{};
      } else if (ExpectMap(e.value, path)) {
        AllowKeys(e.value, path, {"type", "schema", "reducer", "description"}, "a channel");
        const SourceNode* type = e.value.Find("type");
        const SourceNode* schema = e.value.Find("schema");
        if (type != nullptr && schema != nullptr) {
          Error(schema->mark, Sub(path, "schema"), "give `type` or `schema`, not both");
        }
        c.schema = type != nullptr ? TypeSchema(*type, Sub(path, "type"))
                   : schema != nullptr ? Schema(*schema, Sub(path, "schema"))
                                       : json::value(json::object{});
        if (auto reducer = String(e.value.Find("reducer"), Sub(path, "reducer"))) {
          const SourceNode* r = e.value.Find("reducer");
          if (*reducer == "last_value") {
            c.reducer = Reducer::kLastValue;
          } else if (*reducer == "append") {
            c.reducer = Reducer::kAppend;
          } else if (*reducer == "add_messages") {
            c.reducer = Reducer::kAddMessages;
          } else {
            Error(r->mark, Sub(path, "reducer"),
                  fmt::format("unknown reducer \"{}\" (expected last_value, append or add_messages)", *reducer));
          }
        }
      }
      if (c.name == "messages") {
        if (c.reducer != Reducer::kAddMessages && e.value.Find("reducer") != nullptr) {
          Error(e.value.Find("reducer")->mark, Sub(path, "reducer"), "messages always uses add_messages");
        }
        def_.channels.front().mark = c.mark;
        continue;
      }
      def_.channels.push_back(std::move(c));
    }
  }

  void Knobs(const SourceNode& n) {
    if (!ExpectMap(n, "configurable")) return;
    for (const auto& e : n.entries) {
      const std::string path = Sub("configurable", e.key);
      KnobDef k;
      k.name = e.key;
      k.mark = e.key_mark;
      if (!ExpectMap(e.value, path)) continue;
      AllowKeys(e.value, path, {"type", "default", "description"}, "a knob");
      const SourceNode* type = e.value.Find("type");
      const SourceNode* def = e.value.Find("default");
      if (type != nullptr) {
        k.schema = TypeSchema(*type, Sub(path, "type"));
      } else if (def != nullptr && def->kind != SourceNode::Kind::kNull) {
        const json::value v = ToJson(*def);
        k.schema = json::object{{"type", v.is_string() ? "string" : v.is_bool() ? "boolean"
                                         : v.is_int64() ? "integer" : v.is_number() ? "number"
                                         : v.is_array() ? "array" : "object"}};
      } else {
        Error(e.value.mark, path, "a knob needs a `type` (or a `default` to infer it from)");
        k.schema = json::object{};
      }
      if (def != nullptr) {
        k.default_value = ToJson(*def);
        k.has_default = true;
        const auto* t = k.schema.is_object() ? k.schema.get_object().if_contains("type") : nullptr;
        if (t != nullptr && t->is_string() && !k.default_value.is_null() &&
            !TypeMatches(k.default_value, t->get_string())) {
          Error(def->mark, Sub(path, "default"),
                fmt::format("default is {}, not of type {}", def->Describe(), std::string_view(t->get_string())));
        }
      }
      if (auto d = String(e.value.Find("description"), Sub(path, "description"))) k.description = *d;
      def_.knobs.push_back(std::move(k));
    }
  }

  static bool TypeMatches(const json::value& v, std::string_view type) {
    if (type == "string") return v.is_string();
    if (type == "boolean") return v.is_bool();
    if (type == "integer") return v.is_int64() || v.is_uint64();
    if (type == "number") return v.is_number();
    if (type == "array") return v.is_array();
    if (type == "object") return v.is_object();
    return v.is_null();
  }

  std::vector<ToolUse> Tools(const SourceNode& n, const std::string& path) {
    std::vector<ToolUse> out;
    if (!n.is_sequence()) {
      Error(n.mark, path, fmt::format("expected a list of tools, got {}", n.Describe()));
      return out;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const auto& item = n.items[i];
      const std::string p = Index(path, i);
      if (item.is_string()) {
        out.push_back(ToolUse{Ref{std::string(item.scalar.get_string()), item.mark, p}, false});
      } else if (item.is_map()) {
        AllowKeys(item, p, {"name", "approval", "kind", "description", "parameters"}, "a tool entry");
        auto name = String(item.Find("name"), Sub(p, "name"), true, item.mark);
        ToolUse use;
        if (name) use.ref = Ref{*name, item.Find("name")->mark, Sub(p, "name")};
        if (auto approval = String(item.Find("approval"), Sub(p, "approval"))) {
          if (*approval == "required") {
            use.approval_required = true;
          } else if (*approval != "never") {
            Error(item.Find("approval")->mark, Sub(p, "approval"),
                  fmt::format("unknown approval \"{}\" (expected required or never)", *approval));
          }
        }
        if (auto kind = String(item.Find("kind"), Sub(p, "kind"))) {
          if (*kind == "client") {
            use.client = true;
          } else {
            Error(item.Find("kind")->mark, Sub(p, "kind"),
                  fmt::format("unknown tool kind \"{}\" (expected client; configured tools are named without a kind)",
                              *kind));
          }
        }
        if (auto d = String(item.Find("description"), Sub(p, "description"))) use.description = *d;
        if (const SourceNode* params = item.Find("parameters")) {
          json::value schema = Schema(*params, Sub(p, "parameters"));
          if (schema.is_object()) use.parameters = schema.get_object();
        }
        if (!use.client) {
          for (std::string_view k : {"description", "parameters"}) {
            if (const SourceNode* extra = item.Find(k)) {
              Error(extra->mark, Sub(p, k),
                    "only a client tool (kind: client) declares its description and parameters here; "
                    "a configured tool has them in the configuration");
            }
          }
        } else if (use.approval_required) {
          Error(item.Find("approval")->mark, Sub(p, "approval"),
                "a client tool is answered by the client; approval does not apply to it");
        }
        if (use.client && use.parameters.empty()) use.parameters = json::object{{"type", "object"}, {"properties", json::object{}}};
        if (name) out.push_back(std::move(use));
      } else {
        Error(item.mark, p, fmt::format("expected a tool name or {{name, approval}} or {{name, kind: client, description, parameters}}, got {}", item.Describe()));
      }
    }
    return out;
  }

  void Update(const SourceNode& n, const std::string& path, NodeDef& node) {
    if (!ExpectMap(n, path)) return;
    node.update = ToJson(n).get_object();
    for (const auto& e : n.entries) {
      node.update_channels.push_back(Ref{e.key, e.key_mark, Sub(path, e.key)});
      const SourceNode* cases = e.value.is_map() ? e.value.Find("$cases") : nullptr;
      if (cases != nullptr) Cases(*cases, Sub(Sub(path, e.key), "$cases"), node.cases[e.key]);
    }
    CollectTemplates(n, path);
  }

  // {"$cases": [{when: <condition>, value: v}, ..., {value: default}]}
  void Cases(const SourceNode& n, const std::string& path, std::vector<UpdateCase>& out) {
    if (!n.is_sequence() || n.items.empty()) {
      Error(n.mark, path, "expected a non-empty list of {when, value}");
      return;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      const SourceNode& item = n.items[i];
      const std::string p = Index(path, i);
      if (!ExpectMap(item, p)) continue;
      AllowKeys(item, p, {"when", "value"}, "a case");
      UpdateCase c;
      if (const SourceNode* when = item.Find("when")) {
        c.when = ParseCondition(*when, Sub(p, "when"), diags_);
        if (!c.when) continue;
        if (!resume_scope_ && ReadsResume(*c.when)) {
          Error(when->mark, Sub(p, "when"), "a `resume` condition is only defined in an interrupt node's `update`");
        }
      } else if (i + 1 < n.items.size()) {
        Error(item.mark, p, "the default case (no `when`) must come last");
      }
      if (const SourceNode* v = item.Find("value")) {
        c.value = ToJson(*v);
      } else {
        Error(item.mark, Sub(p, "value"), "required");
      }
      out.push_back(std::move(c));
    }
  }

  void ChannelMap(const SourceNode& n, const std::string& path, std::map<std::string, std::string>& out) {
    if (!ExpectMap(n, path)) return;
    for (const auto& e : n.entries) {
      if (auto v = String(&e.value, Sub(path, e.key))) out[e.key] = *v;
    }
  }

  void Node(const SourceNode::Entry& entry) {
    const std::string path = Sub("nodes", entry.key);
    NodeDef node;
    node.name = entry.key;
    node.mark = entry.key_mark;
    if (entry.key == kStart || entry.key == kEnd || entry.key == "__interrupt__") {
      Error(entry.key_mark, path, "reserved node name");
    } else if (entry.key.find_first_of(":|") != std::string::npos || entry.key.empty()) {
      Error(entry.key_mark, path, "a node name must not be empty or contain ':' or '|' (namespace separators)");
    }
    if (!ExpectMap(entry.value, path)) {
      def_.nodes.push_back(std::move(node));
      return;
    }
    const SourceNode& n = entry.value;
    auto kind = String(n.Find("kind"), Sub(path, "kind"), true, n.mark);
    auto key = [&](std::string_view k) { return Sub(path, k); };
    static constexpr std::string_view kKinds = "llm, tools, function, interrupt, set, subgraph or agent";
    if (!kind) {
      def_.nodes.push_back(std::move(node));
      return;
    }
    if (*kind == "llm" || *kind == "agent") {
      const bool agent = *kind == "agent";
      node.kind = agent ? NodeKind::kAgent : NodeKind::kLlm;
      if (agent) {
        AllowKeys(n, path, {"kind", "description", "model", "system", "tools", "max_steps"}, "an agent node");
      } else {
        AllowKeys(n, path, {"kind", "description", "model", "system", "tools", "tool_choice", "temperature",
                            "max_tokens", "output", "update"},
                  "an llm node");
      }
      if (const SourceNode* m = n.Find("model")) {
        if (String(m, key("model"))) {
          node.model = m->scalar;
          node.model_mark = m->mark;
          CollectTemplates(*m, key("model"));
        }
      }
      if (const SourceNode* s = n.Find("system")) {
        if (String(s, key("system"))) {
          node.system = s->scalar;
          CollectTemplates(*s, key("system"));
        }
      }
      if (const SourceNode* t = n.Find("tools")) node.tools = Tools(*t, key("tools"));
      if (auto c = String(n.Find("tool_choice"), key("tool_choice"))) node.tool_choice = *c;
      node.temperature = Number(n.Find("temperature"), key("temperature"), 0, 2);
      node.max_tokens = Integer(n.Find("max_tokens"), key("max_tokens"), 1, 1'000'000);
      if (auto steps = Integer(n.Find("max_steps"), key("max_steps"), 1, 10'000)) node.max_steps = static_cast<int>(*steps);
      if (const SourceNode* o = n.Find("output"); o != nullptr && ExpectMap(*o, key("output"))) {
        AllowKeys(*o, key("output"), {"channel", "schema"}, "output");
        StructuredOutput out;
        if (auto ch = String(o->Find("channel"), Sub(key("output"), "channel"), true, o->mark)) {
          out.channel = Ref{*ch, o->Find("channel")->mark, Sub(key("output"), "channel")};
        }
        if (const SourceNode* s = o->Find("schema")) {
          out.schema = Schema(*s, Sub(key("output"), "schema"));
        } else {
          Error(o->mark, Sub(key("output"), "schema"), "required");
        }
        node.output = std::move(out);
      }
      if (const SourceNode* u = n.Find("update")) Update(*u, key("update"), node);
    } else if (*kind == "tools") {
      node.kind = NodeKind::kTools;
      AllowKeys(n, path, {"kind", "description", "tools"}, "a tools node");
      if (const SourceNode* t = n.Find("tools")) {
        node.tools = Tools(*t, key("tools"));
        node.has_tool_filter = true;
      }
    } else if (*kind == "function") {
      node.kind = NodeKind::kFunction;
      AllowKeys(n, path, {"kind", "description", "url", "timeout_ms", "retries", "headers", "ends"}, "a function node");
      if (auto url = String(n.Find("url"), key("url"), true, n.mark)) {
        if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
          Error(n.Find("url")->mark, key("url"), "must start with http:// or https://");
        }
        node.url = *url;
      }
      if (auto t = Integer(n.Find("timeout_ms"), key("timeout_ms"), 1, 3'600'000)) node.timeout_ms = *t;
      if (auto r = Integer(n.Find("retries"), key("retries"), 0, 10)) node.retries = static_cast<int>(*r);
      if (const SourceNode* h = n.Find("headers"); h != nullptr && ExpectMap(*h, key("headers"))) {
        for (const auto& e : h->entries) {
          const std::string hp = Sub(key("headers"), e.key);
          HeaderValue value;
          if (e.value.is_string()) {
            value.literal = std::string(e.value.scalar.get_string());
          } else if (e.value.is_map()) {
            AllowKeys(e.value, hp, {"env"}, "a header value");
            if (auto env = String(e.value.Find("env"), Sub(hp, "env"), true, e.value.mark)) value.env = *env;
          } else {
            Error(e.value.mark, hp, "expected a string or {env: NAME}");
          }
          node.headers[e.key] = std::move(value);
        }
      }
      if (const SourceNode* ends = n.Find("ends")) node.ends = Names(*ends, key("ends"));
    } else if (*kind == "interrupt") {
      node.kind = NodeKind::kInterrupt;
      AllowKeys(n, path, {"kind", "description", "value", "resume_to", "update"}, "an interrupt node");
      if (const SourceNode* v = n.Find("value")) {
        node.value = ToJson(*v);
        CollectTemplates(*v, key("value"));
      }
      if (auto r = String(n.Find("resume_to"), key("resume_to"))) {
        node.resume_to = Ref{*r, n.Find("resume_to")->mark, key("resume_to")};
      }
      if (const SourceNode* u = n.Find("update")) {
        // Applied when the run resumes, with the resume value in {{resume}} and `resume` conditions.
        resume_scope_ = true;
        Update(*u, key("update"), node);
        resume_scope_ = false;
      }
    } else if (*kind == "set") {
      node.kind = NodeKind::kSet;
      AllowKeys(n, path, {"kind", "description", "update"}, "a set node");
      if (const SourceNode* u = n.Find("update")) {
        Update(*u, key("update"), node);
      } else {
        Error(n.mark, key("update"), "required");
      }
    } else if (*kind == "subgraph") {
      node.kind = NodeKind::kSubgraph;
      AllowKeys(n, path, {"kind", "description", "graph", "input", "output"}, "a subgraph node");
      if (auto g = String(n.Find("graph"), key("graph"), true, n.mark)) {
        node.graph = Ref{*g, n.Find("graph")->mark, key("graph")};
      }
      if (const SourceNode* i = n.Find("input")) ChannelMap(*i, key("input"), node.input_map);
      if (const SourceNode* o = n.Find("output")) ChannelMap(*o, key("output"), node.output_map);
    } else {
      Error(n.Find("kind")->mark, key("kind"), fmt::format("unknown node kind \"{}\" (expected {})", *kind, kKinds));
      node.kind = NodeKind::kSet;  // keeps edges to it from cascading into more errors
    }
    def_.nodes.push_back(std::move(node));
  }

  void Edge(const SourceNode& n, std::size_t i) {
    const std::string path = Index("edges", i);
    EdgeDef edge;
    edge.mark = n.mark;
    edge.path = path;
    if (!ExpectMap(n, path)) return;
    AllowKeys(n, path, {"from", "to", "branches"}, "an edge");
    if (const SourceNode* from = n.Find("from")) {
      edge.from = Names(*from, Sub(path, "from"));
    } else {
      Error(n.mark, Sub(path, "from"), "required");
    }
    const SourceNode* to = n.Find("to");
    const SourceNode* branches = n.Find("branches");
    if ((to == nullptr) == (branches == nullptr)) {
      Error(n.mark, path, "an edge has either `to` or `branches`");
    }
    if (to != nullptr) edge.to = Names(*to, Sub(path, "to"));
    if (branches != nullptr) {
      const std::string bp = Sub(path, "branches");
      if (!branches->is_sequence() || branches->items.empty()) {
        Error(branches->mark, bp, "expected a non-empty list of {when, to}");
      } else {
        bool has_default = false;
        for (std::size_t b = 0; b < branches->items.size(); ++b) {
          const SourceNode& item = branches->items[b];
          const std::string p = Index(bp, b);
          if (!ExpectMap(item, p)) continue;
          AllowKeys(item, p, {"when", "to"}, "a branch");
          Branch branch;
          branch.mark = item.mark;
          if (const SourceNode* when = item.Find("when")) {
            branch.when = ParseCondition(*when, Sub(p, "when"), diags_);
            if (!branch.when) continue;
            if (ReadsResume(*branch.when)) {
              Error(when->mark, Sub(p, "when"),
                    "a `resume` condition is only defined in an interrupt node's `update` (edges read channels)");
            }
          } else {
            if (has_default) Error(item.mark, p, "a second default branch (only one may have no `when`)");
            has_default = true;
          }
          if (b + 1 < branches->items.size() && !item.Find("when")) {
            Error(item.mark, p, "the default branch (no `when`) must come last");
          }
          if (const SourceNode* t = item.Find("to")) {
            branch.to = Names(*t, Sub(p, "to"));
          } else {
            Error(item.mark, Sub(p, "to"), "required");
          }
          edge.branches.push_back(std::move(branch));
        }
      }
    }
    def_.edges.push_back(std::move(edge));
  }

  void Document(const SourceNode& root) {
    AllowKeys(root, "",
              {"graph_id", "description", "state", "input", "output", "configurable", "nodes", "edges",
               "recursion_limit"},
              "a graph");
    def_.channels.push_back(ChannelDef{"messages",
                                       json::object{{"type", "array"}, {"items", json::object{{"type", "object"}}}},
                                       Reducer::kAddMessages, {}});
    if (auto id = String(root.Find("graph_id"), "graph_id", true, Mark{1, 1})) {
      def_.graph_id = *id;
      def_.graph_id_mark = root.Find("graph_id")->mark;
    }
    if (auto d = String(root.Find("description"), "description")) def_.description = *d;
    if (const SourceNode* s = root.Find("state")) State(*s);
    for (std::string_view k : {"input", "output"}) {
      if (const SourceNode* list = root.Find(k)) {
        auto refs = Names(*list, std::string(k));
        auto& names = k == "input" ? def_.input : def_.output;
        for (const auto& r : refs) names.push_back(r.name);
        (k == "input" ? def_.input_refs : def_.output_refs) = std::move(refs);
      }
    }
    if (const SourceNode* c = root.Find("configurable")) Knobs(*c);
    if (const SourceNode* nodes = root.Find("nodes")) {
      if (ExpectMap(*nodes, "nodes")) {
        if (nodes->entries.empty()) Error(nodes->mark, "nodes", "a graph needs at least one node");
        for (const auto& e : nodes->entries) Node(e);
      }
    } else {
      Error(Mark{1, 1}, "nodes", "required");
    }
    if (const SourceNode* edges = root.Find("edges")) {
      if (!edges->is_sequence()) {
        Error(edges->mark, "edges", fmt::format("expected a list of edges, got {}", edges->Describe()));
      } else {
        for (std::size_t i = 0; i < edges->items.size(); ++i) Edge(edges->items[i], i);
      }
    } else {
      Error(Mark{1, 1}, "edges", "required");
    }
    if (auto limit = Integer(root.Find("recursion_limit"), "recursion_limit", 1, 10'000)) {
      def_.recursion_limit = static_cast<int>(*limit);
    }
  }

 private:
  Diagnostics& diags_;
  GraphDef& def_;
  int each_depth_ = 0;         // inside the `do` of a `$each`: {{item}} is defined
  bool resume_scope_ = false;  // in an interrupt node's `update`: {{resume}}, `resume` conditions
};

}  // namespace

std::string_view NodeKindName(NodeKind kind) {
  switch (kind) {
    case NodeKind::kLlm: return "llm";
    case NodeKind::kTools: return "tools";
    case NodeKind::kFunction: return "function";
    case NodeKind::kInterrupt: return "interrupt";
    case NodeKind::kSet: return "set";
    case NodeKind::kSubgraph: return "subgraph";
    case NodeKind::kAgent: return "agent";
  }
  return "llm";
}

const NodeDef* GraphDef::FindNode(std::string_view name) const {
  for (const auto& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

const ChannelDef* GraphDef::FindChannel(std::string_view name) const {
  for (const auto& c : channels) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const KnobDef* GraphDef::FindKnob(std::string_view name) const {
  for (const auto& k : knobs) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const ToolUse* GraphDef::FindClientTool(std::string_view name) const {
  for (const auto& n : nodes) {
    for (const auto& t : n.tools) {
      if (t.client && t.ref.name == name) return &t;
    }
  }
  return nullptr;
}

bool GraphDef::RequiresApproval(std::string_view name) const {
  for (const auto& n : nodes) {
    for (const auto& t : n.tools) {
      if (t.approval_required && t.ref.name == name) return true;
    }
  }
  return false;
}

std::optional<GraphDef> ParseGraph(std::string_view text, const std::string& file, Diagnostics& diags) {
  Diagnostics local(file);
  auto root = ParseSource(text, local);
  if (root && !root->is_map()) {
    local.Add(root->mark, "", fmt::format("a graph file holds one map (graph_id, nodes, edges, ...), got {}",
                                          root->Describe()));
    root.reset();
  }
  std::optional<GraphDef> def;
  if (root) {
    def.emplace();
    def->file = file;
    Reader reader(local, *def);
    reader.Document(*root);
  }
  diags.Append(local);
  return def;
}

}  // namespace agentd::graph
