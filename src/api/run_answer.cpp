#include "api/run_answer.hpp"

#include "common/json.hpp"

namespace agentd::api::detail {

namespace json = boost::json;

bool IsMessageGraph(const runtime::GraphInfo& graph) {
  const json::object* schema = graph.input_schema.if_object();
  if (schema == nullptr) return false;
  const json::value* props = schema->if_contains("properties");
  return props != nullptr && props->is_object() && props->as_object().contains("messages");
}

json::object TextInput(std::string_view text) {
  return json::object{
      {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}}};
}

std::string ContentText(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (const json::array* parts = content.if_array()) {
    for (const auto& part : *parts) {
      if (part.is_string()) {
        out += part.get_string();
      } else if (const json::object* o = part.if_object()) {
        if (const json::value* t = o->if_contains("text"); t != nullptr && t->is_string()) {
          out += t->get_string();
        }
      }
    }
  }
  return out;
}

RunAnswer ReadAnswer(const json::value& final_body) {
  RunAnswer answer;
  const json::object* body = final_body.if_object();
  if (body == nullptr) {
    answer.text = ToJson(final_body);
    return answer;
  }
  if (const json::value* error = body->if_contains("__error__")) {
    answer.kind = RunAnswer::Kind::kError;
    answer.text = "the run failed";
    if (const json::object* e = error->if_object()) {
      if (const json::value* m = e->if_contains("message"); m != nullptr && m->is_string()) {
        answer.text = std::string(m->get_string());
      }
      if (const json::value* t = e->if_contains("error"); t != nullptr && t->is_string()) {
        answer.error_type = std::string(t->get_string());
      }
    }
    return answer;
  }
  if (const json::value* interrupts = body->if_contains("__interrupt__")) {
    answer.kind = RunAnswer::Kind::kInterrupted;
    answer.text = ToJson(*interrupts);
    return answer;
  }
  answer.values = *body;
  const json::value* messages = body->if_contains("messages");
  if (messages != nullptr && messages->is_array() && !messages->as_array().empty()) {
    const json::value& last = messages->as_array().back();
    if (const json::object* m = last.if_object()) {
      if (const json::value* content = m->if_contains("content")) {
        answer.text = ContentText(*content);
        return answer;
      }
    }
  }
  answer.text = ToJson(final_body);
  return answer;
}

}  // namespace agentd::api::detail
