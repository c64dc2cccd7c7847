#pragma once
// A graph file, parsed: the typed form of docs/graphs.md (state channels with reducers,
// input/output channels, configurable knobs, nodes, edges, recursion limit). Built by
// parser.hpp from YAML or JSON, checked by validator.hpp, run by the runtime
// (runtime/graph_registry.hpp, runtime/declarative_nodes.hpp). Immutable once loaded; runs
// share it through shared_ptr<const GraphDef>.
//
// Every name that refers to something (a model, a tool, a node, a channel) keeps where it was
// written (`Ref`), so the validator's errors name file, line, column and key path.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "graph/conditions.hpp"
#include "graph/diagnostics.hpp"

namespace agentd::graph {

namespace json = boost::json;

inline constexpr std::string_view kStart = "__start__";
inline constexpr std::string_view kEnd = "__end__";

// A name written somewhere in a file.
struct Ref {
  std::string name;
  Mark mark;
  std::string path;  // key path, e.g. "nodes.billing.tools[0]"
};

enum class Reducer { kLastValue, kAppend, kAddMessages };

struct ChannelDef {
  std::string name;
  json::value schema;  // JSON Schema of the value ({"type": ...} or the given `schema`)
  Reducer reducer = Reducer::kLastValue;
  Mark mark;
};

struct KnobDef {
  std::string name;
  json::value schema;         // {"type": ...}
  json::value default_value;  // null when none
  bool has_default = false;
  std::string description;
  Mark mark;
};

enum class NodeKind { kLlm, kTools, kFunction, kInterrupt, kSet, kSubgraph, kAgent };
std::string_view NodeKindName(NodeKind kind);

// A tool entry of a node's `tools`: a name, or {name, approval} (docs/graphs.md "Approval
// before tools"), or a client-side tool {name, kind: client, description, parameters}: the
// model is offered it, and a call to it pauses the run until the client answers it.
struct ToolUse {
  Ref ref;
  bool approval_required = false;
  bool client = false;
  std::string description;  // client tools: what the model is told
  json::object parameters;  // client tools: JSON Schema of the arguments
};

struct StructuredOutput {
  Ref channel;
  json::value schema;
};

// A function node's header value: a literal, or {"env": NAME} read when the request is made.
struct HeaderValue {
  std::string literal;
  std::string env;
};

// One case of a conditional update value ({"$cases": [{when, value}, ..., {value}]}): the first
// whose condition holds gives the value; one without `when` is the default.
struct UpdateCase {
  std::optional<Condition> when;
  json::value value;
};

struct NodeDef {
  std::string name;
  NodeKind kind = NodeKind::kLlm;
  Mark mark;
  // llm, agent
  json::value model;   // a model name or a template string; null = the configuration's first model
  Mark model_mark;
  json::value system;  // template string; null = none
  std::vector<ToolUse> tools;
  std::string tool_choice;
  std::optional<double> temperature;
  std::optional<std::int64_t> max_tokens;
  std::optional<StructuredOutput> output;
  int max_steps = 25;  // agent
  // tools: the optional filter (`tools` of a tools node names which calls it runs)
  bool has_tool_filter = false;
  // The filter's tool names (has_tool_filter), or nullopt when the node runs every call.
  std::optional<std::vector<std::string>> ToolFilter() const {
    if (!has_tool_filter) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& t : tools) names.push_back(t.ref.name);
    return names;
  }
  // function
  std::string url;
  std::int64_t timeout_ms = 30'000;
  int retries = 2;
  std::map<std::string, HeaderValue> headers;
  std::vector<Ref> ends;  // declared goto targets (for reachability and the drawing)
  // interrupt
  json::value value;     // payload template
  std::optional<Ref> resume_to;
  // set (and llm: applied after the reply; see graphs.md "update")
  json::object update;
  std::vector<Ref> update_channels;
  std::map<std::string, std::vector<UpdateCase>> cases;  // channel -> its $cases
  // subgraph
  Ref graph;
  std::map<std::string, std::string> input_map;   // subgraph channel <- parent channel
  std::map<std::string, std::string> output_map;  // parent channel <- subgraph channel
};

struct Branch {
  std::optional<Condition> when;  // none: the default
  std::vector<Ref> to;
  Mark mark;
};

struct EdgeDef {
  std::vector<Ref> from;
  std::vector<Ref> to;         // static (several = fan-out)
  std::vector<Branch> branches;  // conditional (first match wins)
  Mark mark;
  std::string path;  // "edges[3]"
};

// A `{{...}}` placeholder written in a template string, for the validator.
struct TemplateUse {
  std::string root;  // state | config | context | last | thread_id | run_id
  std::string name;  // channel / knob / key; "text" for last
  Mark mark;
  std::string path;
};

struct GraphDef {
  std::string file;  // where it came from (errors, logs)
  std::string graph_id;
  Mark graph_id_mark;
  std::string description;
  std::vector<ChannelDef> channels;  // includes `messages` (add_messages) first
  std::vector<std::string> input;    // empty = every channel
  std::vector<std::string> output;   // empty = every channel
  std::vector<Ref> input_refs, output_refs;
  std::vector<KnobDef> knobs;
  std::vector<NodeDef> nodes;  // in file order
  std::vector<EdgeDef> edges;
  int recursion_limit = 25;
  std::vector<TemplateUse> templates;

  const NodeDef* FindNode(std::string_view name) const;
  const ChannelDef* FindChannel(std::string_view name) const;
  const KnobDef* FindKnob(std::string_view name) const;
  // The client-side tool declared as `name` by any node, or null.
  const ToolUse* FindClientTool(std::string_view name) const;
  // Whether any tool entry of the graph naming `name` says `approval: required`.
  bool RequiresApproval(std::string_view name) const;
};

}  // namespace agentd::graph
