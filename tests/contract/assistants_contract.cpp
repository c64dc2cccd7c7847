// AssistantStore contract.
#include "contract/storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

std::vector<std::string> Ids(const std::vector<model::Assistant>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.assistant_id);
  return out;
}

TEST_P(StorageContract, AssistantCreateStoresVersionOneWithTimestamps) {
  auto a = Ok(s().assistants().Create(NewAssistant("a1", "agent", "Bot", R"({"k":1})"),
                                      IfExists::kRaise));
  EXPECT_EQ(a.version, 1);
  EXPECT_EQ(a.created_at, Now());
  EXPECT_EQ(a.updated_at, Now());
  auto got = Ok(s().assistants().Get("", "a1"));
  EXPECT_EQ(got.graph_id, "agent");
  EXPECT_EQ(got.name, "Bot");
  EXPECT_EQ(got.metadata, Obj(R"({"k":1})"));
  EXPECT_FALSE(got.description.has_value());
  auto versions = Ok(s().assistants().ListVersions("", "a1", std::nullopt, 10, 0));
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].version, 1);
  EXPECT_EQ(versions[0].name, "Bot");
}

TEST_P(StorageContract, AssistantCreateExistingRaisesOrReturnsStored) {
  Ok(s().assistants().Create(NewAssistant("a1", "agent", "First"), IfExists::kRaise));
  EXPECT_EQ(Fails(s().assistants().Create(NewAssistant("a1", "other", "Second"),
                                          IfExists::kRaise)),
            Errc::kConflict);
  auto kept = Ok(s().assistants().Create(NewAssistant("a1", "other", "Second"),
                                         IfExists::kDoNothing));
  EXPECT_EQ(kept.name, "First");
  EXPECT_EQ(kept.graph_id, "agent");
}

TEST_P(StorageContract, AssistantGetMissingIsNotFound) {
  EXPECT_EQ(Fails(s().assistants().Get("", "nope")), Errc::kNotFound);
}

TEST_P(StorageContract, AssistantUpdateMergesMetadataReplacesConfigAndAddsVersion) {
  auto a = NewAssistant("a1", "agent", "Bot", R"({"keep":1,"over":1})");
  a.config = Obj(R"({"configurable":{"x":1},"tags":["t"]})");
  a.context = Obj(R"({"c":1})");
  Ok(s().assistants().Create(a, IfExists::kRaise));
  Advance(1000);
  AssistantPatch patch;
  patch.metadata = Obj(R"({"over":2,"new":3})");
  patch.config = Obj(R"({"configurable":{"y":2}})");
  patch.name = "Renamed";
  patch.description = std::optional<std::string>("desc");
  auto updated = Ok(s().assistants().Update("", "a1", patch));
  EXPECT_EQ(updated.version, 2);
  EXPECT_EQ(updated.metadata, Obj(R"({"keep":1,"over":2,"new":3})"));
  EXPECT_EQ(updated.config, Obj(R"({"configurable":{"y":2}})"));
  EXPECT_EQ(updated.context, Obj(R"({"c":1})"));
  EXPECT_EQ(updated.name, "Renamed");
  EXPECT_EQ(updated.description, std::optional<std::string>("desc"));
  EXPECT_EQ(updated.created_at, kStart);
  EXPECT_EQ(updated.updated_at, kStart + 1000);
  EXPECT_EQ(Ok(s().assistants().Get("", "a1")).version, 2);

  AssistantPatch clear;
  clear.description = std::optional<std::string>();
  EXPECT_FALSE(Ok(s().assistants().Update("", "a1", clear)).description.has_value());
}

TEST_P(StorageContract, AssistantVersionsNewestFirstWithMetadataFilterAndPaging) {
  Ok(s().assistants().Create(NewAssistant("a1", "agent", "v1", R"({"v":1})"), IfExists::kRaise));
  for (int v = 2; v <= 4; ++v) {
    AssistantPatch p;
    p.name = "v" + std::to_string(v);
    p.metadata = Obj(v % 2 == 0 ? R"({"even":true})" : R"({"even":false})");
    Ok(s().assistants().Update("", "a1", p));
  }
  auto all = Ok(s().assistants().ListVersions("", "a1", std::nullopt, 10, 0));
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].version, 4);
  EXPECT_EQ(all[3].version, 1);
  auto page = Ok(s().assistants().ListVersions("", "a1", std::nullopt, 2, 1));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].version, 3);
  EXPECT_EQ(page[1].version, 2);
  auto even = Ok(s().assistants().ListVersions("", "a1", Obj(R"({"even":true})"), 10, 0));
  ASSERT_EQ(even.size(), 2u);  // metadata merges: v3 flipped "even" to false, v4 back
  EXPECT_EQ(even[0].version, 4);
  EXPECT_EQ(even[1].version, 2);
  EXPECT_EQ(Fails(s().assistants().ListVersions("", "nope", std::nullopt, 10, 0)),
            Errc::kNotFound);
}

TEST_P(StorageContract, AssistantSetLatestRestoresVersionAndNextUpdateIsMaxPlusOne) {
  auto a = NewAssistant("a1", "agent", "one", R"({"n":1})");
  a.config = Obj(R"({"x":1})");
  Ok(s().assistants().Create(a, IfExists::kRaise));
  AssistantPatch p;
  p.name = "two";
  p.config = Obj(R"({"x":2})");
  p.metadata = Obj(R"({"n":2})");
  Ok(s().assistants().Update("", "a1", p));
  auto restored = Ok(s().assistants().SetLatest("", "a1", 1));
  EXPECT_EQ(restored.version, 1);
  EXPECT_EQ(restored.name, "one");
  EXPECT_EQ(restored.config, Obj(R"({"x":1})"));
  EXPECT_EQ(restored.metadata, Obj(R"({"n":1})"));
  EXPECT_EQ(Ok(s().assistants().Get("", "a1")).name, "one");
  EXPECT_EQ(Fails(s().assistants().SetLatest("", "a1", 9)), Errc::kNotFound);
  AssistantPatch q;
  q.name = "three";
  EXPECT_EQ(Ok(s().assistants().Update("", "a1", q)).version, 3);
}

TEST_P(StorageContract, AssistantSearchFiltersByNestedMetadataGraphAndName) {
  Ok(s().assistants().Create(NewAssistant("a1", "agent", "Support Bot",
                                          R"({"owner":{"team":"x","id":1},"tier":"gold"})"),
                             IfExists::kRaise));
  Ok(s().assistants().Create(NewAssistant("a2", "agent", "sales bot", R"({"owner":{"team":"y"}})"),
                             IfExists::kRaise));
  Ok(s().assistants().Create(NewAssistant("a3", "other", "Helper", R"({"owner":{"team":"x"}})"),
                             IfExists::kRaise));
  AssistantQuery q;
  q.metadata = Obj(R"({"owner":{"team":"x"}})");
  q.sort_order = model::SortOrder::kAsc;
  auto page = Ok(s().assistants().Search(q));
  EXPECT_EQ(Ids(page.items), (std::vector<std::string>{"a1", "a3"}));
  EXPECT_EQ(page.total, 2);

  AssistantQuery by_graph;
  by_graph.graph_id = "agent";
  by_graph.sort_order = model::SortOrder::kAsc;
  EXPECT_EQ(Ids(Ok(s().assistants().Search(by_graph)).items),
            (std::vector<std::string>{"a1", "a2"}));

  AssistantQuery by_name;
  by_name.name = "BOT";
  by_name.sort_order = model::SortOrder::kAsc;
  EXPECT_EQ(Ids(Ok(s().assistants().Search(by_name)).items),
            (std::vector<std::string>{"a1", "a2"}));
  by_name.graph_id = "agent";
  by_name.metadata = Obj(R"({"tier":"gold"})");
  EXPECT_EQ(Ok(s().assistants().Count(by_name)), 1);
}

TEST_P(StorageContract, AssistantSearchSortsAndPaginatesWithExactTotal) {
  // Created one second apart, with names in the reverse order of creation.
  const char* names[] = {"e", "d", "c", "b", "a"};
  for (int i = 0; i < 5; ++i) {
    Ok(s().assistants().Create(NewAssistant("id" + std::to_string(i), "agent", names[i],
                                            i % 2 == 0 ? R"({"even":true})" : "{}"),
                               IfExists::kRaise));
    Advance(1000);
  }
  AssistantQuery q;  // created_at desc by default
  q.limit = 2;
  q.offset = 1;
  auto page = Ok(s().assistants().Search(q));
  EXPECT_EQ(Ids(page.items), (std::vector<std::string>{"id3", "id2"}));
  EXPECT_EQ(page.total, 5);

  q.sort_by = "name";
  q.sort_order = model::SortOrder::kAsc;
  q.limit = 3;
  q.offset = 0;
  EXPECT_EQ(Ids(Ok(s().assistants().Search(q)).items),
            (std::vector<std::string>{"id4", "id3", "id2"}));

  q.sort_by = "assistant_id";
  q.sort_order = model::SortOrder::kDesc;
  EXPECT_EQ(Ids(Ok(s().assistants().Search(q)).items),
            (std::vector<std::string>{"id4", "id3", "id2"}));

  // Filtering happens before pagination: 3 matches, the page holds the 2nd and 3rd.
  AssistantQuery even;
  even.metadata = Obj(R"({"even":true})");
  even.sort_order = model::SortOrder::kAsc;
  even.offset = 1;
  even.limit = 5;
  auto filtered = Ok(s().assistants().Search(even));
  EXPECT_EQ(Ids(filtered.items), (std::vector<std::string>{"id2", "id4"}));
  EXPECT_EQ(filtered.total, 3);
  EXPECT_EQ(Ok(s().assistants().Count(even)), 3);

  // updated_at: touching id0 makes it the most recently updated.
  AssistantPatch p;
  p.name = "z";
  Ok(s().assistants().Update("", "id0", p));
  AssistantQuery by_updated;
  by_updated.sort_by = "updated_at";
  by_updated.limit = 1;
  EXPECT_EQ(Ids(Ok(s().assistants().Search(by_updated)).items),
            (std::vector<std::string>{"id0"}));
}

TEST_P(StorageContract, AssistantDeleteRemovesVersionsRunsAndOptionallyThreads) {
  Ok(s().assistants().Create(NewAssistant("a1"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t1", R"({"assistant_id":"a1"})"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t2", R"({"assistant_id":"other"})"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t2", "a1")));
  Ok(s().runs().Create(NewRun("r2", "t2", "other")));
  Ok(s().assistants().Delete("", "a1", /*delete_threads=*/false));
  EXPECT_EQ(Fails(s().assistants().Get("", "a1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().runs().Get("", "r1")), Errc::kNotFound);
  Ok(s().runs().Get("", "r2"));
  Ok(s().threads().Get("", "t1"));
  EXPECT_EQ(Fails(s().assistants().Delete("", "a1", false)), Errc::kNotFound);

  // Re-created under the same id, it starts from version 1 again, and delete_threads
  // takes only the threads whose metadata names it.
  EXPECT_EQ(Ok(s().assistants().Create(NewAssistant("a1"), IfExists::kRaise)).version, 1);
  EXPECT_EQ(Ok(s().assistants().ListVersions("", "a1", std::nullopt, 10, 0)).size(), 1u);
  Ok(s().assistants().Delete("", "a1", /*delete_threads=*/true));
  EXPECT_EQ(Fails(s().threads().Get("", "t1")), Errc::kNotFound);
  Ok(s().threads().Get("", "t2"));
}

TEST_P(StorageContract, AssistantsOfAnotherTenantAreInvisible) {
  Ok(s().assistants().Create(NewAssistant("b1", "agent", "B", "{}", "b"), IfExists::kRaise));
  EXPECT_EQ(Fails(s().assistants().Get("a", "b1")), Errc::kNotFound);
  AssistantPatch p;
  p.name = "stolen";
  EXPECT_EQ(Fails(s().assistants().Update("a", "b1", p)), Errc::kNotFound);
  EXPECT_EQ(Fails(s().assistants().SetLatest("a", "b1", 1)), Errc::kNotFound);
  EXPECT_EQ(Fails(s().assistants().ListVersions("a", "b1", std::nullopt, 10, 0)),
            Errc::kNotFound);
  EXPECT_EQ(Fails(s().assistants().Delete("a", "b1", true)), Errc::kNotFound);
  // Same id from another tenant: a conflict, never the other tenant's row.
  EXPECT_EQ(Fails(s().assistants().Create(NewAssistant("b1", "agent", "A", "{}", "a"),
                                          IfExists::kDoNothing)),
            Errc::kConflict);
  AssistantQuery q;
  q.tenant = "a";
  EXPECT_EQ(Ok(s().assistants().Search(q)).total, 0);
  EXPECT_EQ(Ok(s().assistants().Count(q)), 0);
  EXPECT_EQ(Ok(s().assistants().Get("b", "b1")).name, "B");
}

}  // namespace
}  // namespace agentd::storage::contract
