#pragma once
// The provider-neutral half of a streamed reply:
//  - ChatAssembler folds StreamDeltas into a ChatResult;
//  - ChatStreamDecoder is what each provider codec implements: one SSE event in, deltas out;
//  - ChatStream couples an SseParser with a decoder, so a client feeds raw body bytes and gets
//    deltas, then the assembled result.
// All pure CPU steps, no I/O. Thread safety: none; one instance per reply, used by its owner.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "runtime/providers/chat_types.hpp"
#include "runtime/providers/sse_parser.hpp"

namespace agentd::runtime::providers {

class ChatAssembler {
 public:
  void SetId(std::string_view id);
  void SetModel(std::string_view model) { result_.model.assign(model); }
  // Text appends; ToolCallStart opens call `index` (grows the list as needed); ToolCallArgsDelta
  // appends to call `index`; Usage replaces; Finish sets the reason.
  void Apply(const StreamDelta& delta);
  const ChatResult& result() const { return result_; }
  // The result, with empty tool-call arguments normalised to "{}" (a call without arguments).
  ChatResult Take();

 private:
  ChatResult result_;
};

// One provider's streaming wire format. Implementations: OpenAiStreamDecoder,
// AnthropicStreamDecoder.
class ChatStreamDecoder {
 public:
  virtual ~ChatStreamDecoder() = default;

  // Decodes one SSE event, appending the deltas it carries to `out` and folding them into the
  // reply. Errors: kInternal for malformed JSON or an event that breaks the protocol;
  // kUnavailable / kResourceExhausted (rate limit) / kInvalidArgument for an error the
  // provider reported, with its message. A failed decoder stays failed.
  virtual Status Decode(const SseEvent& event, std::vector<StreamDelta>& out) = 0;

  // True once the provider's end-of-stream marker arrived; later events are ignored.
  virtual bool done() const = 0;

  // The reply assembled so far.
  virtual const ChatResult& partial() const = 0;

  // The assembled reply; kUnavailable if the stream has not reached its end marker (a cut
  // connection must not pass for a complete reply), or the decoder's error if it failed.
  virtual Result<ChatResult> TakeResult() = 0;
};

class ChatStream {
 public:
  explicit ChatStream(std::unique_ptr<ChatStreamDecoder> decoder, SseParserOptions options = {});

  // Feeds raw response-body bytes (any slicing), appending the decoded deltas to `out`.
  // Returns the first SSE or decoder error; after an error the stream stays failed.
  Status Feed(std::string_view bytes, std::vector<StreamDelta>& out);

  bool done() const { return decoder_->done(); }
  const ChatResult& partial() const { return decoder_->partial(); }
  Result<ChatResult> TakeResult() { return decoder_->TakeResult(); }

 private:
  SseParser parser_;
  std::unique_ptr<ChatStreamDecoder> decoder_;
  std::vector<SseEvent> events_;  // reused across Feed calls
  std::optional<Error> failure_;
};

}  // namespace agentd::runtime::providers
