#include "api_fixture.hpp"

#include "support/run_co.hpp"

namespace agentd::api::testing {
namespace {

constexpr std::string_view kCp1 = "01900000-0000-7000-8000-000000000001";
constexpr std::string_view kCp2 = "01900000-0000-7000-8000-000000000002";
constexpr std::string_view kCp3 = "01900000-0000-7000-8000-000000000003";

class StateTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    thread_ = NewThread(R"({"metadata":{"graph_id":"echo"}})");
    Put(kCp1, std::nullopt, R"({"source":"input","step":-1,"parents":{}})", R"(["__start__"])",
        "[]", "{}");
    Put(kCp2, std::string(kCp1), R"({"source":"loop","step":0,"parents":{}})", R"(["echo"])",
        R"([{"id":"h1","type":"human","content":"hi"}])", R"({"count":1})");
    Put(kCp3, std::string(kCp2), R"({"source":"loop","step":1,"parents":{},"writes":{"echo":{}}})",
        "[]",
        R"([{"id":"a1","type":"ai","content":"echo: hi"},)"
        R"({"id":"h1","type":"human","content":"edited"}])",
        R"({"count":2})");
  }

  void Put(std::string_view id, std::optional<std::string> parent, std::string_view metadata,
           std::string_view next, std::string_view messages, std::string_view channels) {
    model::Checkpoint cp;
    cp.thread_id = thread_;
    cp.checkpoint_id = std::string(id);
    cp.parent_checkpoint_id = std::move(parent);
    cp.metadata = ParseJson(metadata)->as_object();
    cp.next = ParseJson(next)->as_array();
    cp.appended_messages = ParseJson(messages)->as_array();
    cp.message_count = static_cast<std::int64_t>(cp.appended_messages.size());
    cp.channels = ParseJson(channels)->as_object();
    if (id == kCp2) {
      cp.tasks = ParseJson(R"([{"id":"t1","name":"echo","error":null,)"
                           R"("interrupts":[{"value":"ask","id":"i1"}]}])")
                     ->as_array();
    }
    auto put = agentd::testing::RunCo(storage_->checkpoints().Put(std::move(cp)));
    ASSERT_TRUE(put) << put.error().message;
  }

  std::string Ref(std::string_view cp) {
    return R"({"thread_id":")" + thread_ + R"(","checkpoint_ns":"","checkpoint_id":")" +
           std::string(cp) + R"(","checkpoint_map":null})";
  }

  std::string thread_;
};

TEST_F(StateTest, ThreadThatNeverRanHasEmptyState) {
  std::string fresh = NewThread();
  Reply r = Get("/threads/" + fresh + "/state");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body,
            R"({"values":{},"next":[],"tasks":[],"checkpoint":null,"parent_checkpoint":null,)"
            R"("metadata":null,"created_at":null,"interrupts":[]})");
  Reply history = Post("/threads/" + fresh + "/history");
  EXPECT_EQ(history.status, 200);
  EXPECT_EQ(history.body, "[]");
}

TEST_F(StateTest, LatestStateFoldsMessagesOverTheChain) {
  Reply r = Get("/threads/" + thread_ + "/state?subgraphs=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(r.Normalized()),
            R"({"values":{"count":2,"messages":[{"id":"h1","type":"human","content":"edited"},)"
            R"({"id":"a1","type":"ai","content":"echo: hi"}]},"next":[],"tasks":[],)"
            R"("checkpoint":)" + Ref(kCp3) + R"(,"parent_checkpoint":)" + Ref(kCp2) +
            R"(,"metadata":{"source":"loop","step":1,"parents":{},"writes":{"echo":{}}},)"
            R"("created_at":"<ts>","interrupts":[]})");
}

TEST_F(StateTest, StateAtACheckpoint) {
  Reply r = Get("/threads/" + thread_ + "/state/" + std::string(kCp2));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ToJson(r.Normalized()),
            R"({"values":{"count":1,"messages":[{"id":"h1","type":"human","content":"hi"}]},)"
            R"("next":["echo"],"tasks":[{"id":"t1","name":"echo","error":null,)"
            R"("interrupts":[{"value":"ask","id":"i1"}]}],"checkpoint":)" + Ref(kCp2) +
            R"(,"parent_checkpoint":)" + Ref(kCp1) +
            R"(,"metadata":{"source":"loop","step":0,"parents":{}},"created_at":"<ts>",)"
            R"("interrupts":[{"value":"ask","id":"i1"}]})");
  Reply first = Get("/threads/" + thread_ + "/state/" + std::string(kCp1));
  EXPECT_EQ(ToJson(first.Json().at("values")), "{}");  // no messages written yet
  EXPECT_TRUE(first.Json().at("parent_checkpoint").is_null());
}

TEST_F(StateTest, StateErrors) {
  Reply missing = Get("/threads/" + std::string(kMissingId) + "/state");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Detail(), "Thread with ID " + std::string(kMissingId) + " not found");
  EXPECT_EQ(Get("/threads/x/state").status, 400);
  Reply bad_cp = Get("/threads/" + thread_ + "/state/zzz");
  EXPECT_EQ(bad_cp.status, 400);
  EXPECT_EQ(bad_cp.Json().at("error").at("issues").at(0).at("path").at(0), "checkpoint_id");
  Reply unknown_cp = Get("/threads/" + thread_ + "/state/" + std::string(kMissingId));
  EXPECT_EQ(unknown_cp.status, 404);
  EXPECT_EQ(Get("/threads/" + thread_ + "/state?subgraphs=perhaps").status, 400);
}

TEST_F(StateTest, PostStateCheckpoint) {
  Reply at = Post("/threads/" + thread_ + "/state/checkpoint",
                  R"({"checkpoint":{"checkpoint_id":")" + std::string(kCp2) + R"("}})");
  ASSERT_EQ(at.status, 200) << at.body;
  EXPECT_EQ(Str(at.Json().at("checkpoint").at("checkpoint_id")), kCp2);
  Reply latest = Post("/threads/" + thread_ + "/state/checkpoint", R"({"checkpoint":{}})");
  EXPECT_EQ(Str(latest.Json().at("checkpoint").at("checkpoint_id")), kCp3);
  Reply bad = Post("/threads/" + thread_ + "/state/checkpoint",
                   R"({"checkpoint":{"checkpoint_id":"x"}})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ToJson(bad.Json().at("error").at("issues").at(0).at("path")),
            R"(["checkpoint","checkpoint_id"])");
}

std::string Ids(const json::value& history) {
  std::string out;
  for (const auto& s : history.as_array()) {
    out += std::string(s.at("checkpoint").at("checkpoint_id").as_string()).substr(34) + " ";
  }
  return out;
}

TEST_F(StateTest, HistoryNewestFirstWithLimitBeforeAndMetadata) {
  Reply all = Post("/threads/" + thread_ + "/history");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Ids(all.Json()), "03 02 01 ");
  EXPECT_EQ(ToJson(all.Json().at(1).at("values").at("messages")),
            R"([{"id":"h1","type":"human","content":"hi"}])");
  EXPECT_EQ(Ids(Post("/threads/" + thread_ + "/history", R"({"limit":2})").Json()), "03 02 ");
  EXPECT_EQ(Ids(Post("/threads/" + thread_ + "/history",
                     R"({"before":")" + std::string(kCp3) + R"("})").Json()),
            "02 01 ");
  EXPECT_EQ(Ids(Post("/threads/" + thread_ + "/history",
                     R"({"before":{"configurable":{"checkpoint_id":")" + std::string(kCp2) +
                         R"("}}})").Json()),
            "01 ");
  EXPECT_EQ(Ids(Post("/threads/" + thread_ + "/history", R"({"metadata":{"source":"loop"}})")
                    .Json()),
            "03 02 ");
  EXPECT_EQ(Ids(Get("/threads/" + thread_ + "/history?limit=1&before=" + std::string(kCp2))
                    .Json()),
            "01 ");
}

TEST_F(StateTest, HistoryErrors) {
  Reply missing = Post("/threads/" + std::string(kMissingId) + "/history");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.Detail(), "Thread with ID " + std::string(kMissingId) + " not found");
  EXPECT_EQ(Post("/threads/" + thread_ + "/history", R"({"limit":0})").status, 400);
  EXPECT_EQ(Post("/threads/" + thread_ + "/history", R"({"before":5})").status, 400);
  EXPECT_EQ(Get("/threads/" + thread_ + "/history?limit=abc").status, 400);
  EXPECT_EQ(Get("/threads/nope/history").status, 400);
}

TEST_F(StateTest, UpdateStateAnswersProtocolErrorsThen422) {
  std::string no_graph = NewThread();
  Reply r = Post("/threads/" + no_graph + "/state", R"({"values":{"messages":[]}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Detail(), "Thread " + no_graph + " has no graph ID");
  Reply pending = Post("/threads/" + thread_ + "/state", R"({"values":{},"as_node":"echo"})");
  EXPECT_EQ(pending.status, 422);
  EXPECT_EQ(pending.Detail(), "updateState is not available until the run engine lands");
  EXPECT_EQ(Post("/threads/" + thread_ + "/state", R"({"values":5})").status, 400);
  Reply missing = Post("/threads/" + std::string(kMissingId) + "/state", "{}");
  EXPECT_EQ(missing.status, 404);

  storage::ThreadPatch busy;
  busy.status = model::ThreadStatus::kBusy;
  ASSERT_TRUE(agentd::testing::RunCo(storage_->threads().Update("", thread_, busy)));
  Reply conflict = Post("/threads/" + thread_ + "/state", R"({"values":{}})");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.Detail(), "Thread is busy");
}

}  // namespace
}  // namespace agentd::api::testing
