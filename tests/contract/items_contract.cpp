// ItemStore contract, plus Storage::Ping and Truncate.
#include "contract/storage_contract.hpp"

namespace agentd::storage::contract {
namespace {

using Ns = std::vector<std::string>;

std::vector<std::string> Keys(const std::vector<model::StoreItem>& v) {
  std::vector<std::string> out;
  for (const auto& i : v) out.push_back(i.key);
  return out;
}

TEST_P(StorageContract, ItemPutGetOverwriteKeepsCreatedAt) {
  Ok(s().items().Put(NewItem({"users", "u1"}, "prefs", R"({"theme":"dark"})")));
  auto first = Ok(s().items().Get("", {"users", "u1"}, "prefs", false));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->namespace_path, (Ns{"users", "u1"}));
  EXPECT_EQ(first->value, Obj(R"({"theme":"dark"})"));
  EXPECT_EQ(first->created_at, kStart);
  EXPECT_EQ(first->updated_at, kStart);
  Advance(1000);
  Ok(s().items().Put(NewItem({"users", "u1"}, "prefs", R"({"theme":"light"})")));
  auto second = Ok(s().items().Get("", {"users", "u1"}, "prefs", false));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->value, Obj(R"({"theme":"light"})"));
  EXPECT_EQ(second->created_at, kStart);
  EXPECT_EQ(second->updated_at, kStart + 1000);
  EXPECT_FALSE(Ok(s().items().Get("", {"users"}, "prefs", false)).has_value());
  EXPECT_FALSE(Ok(s().items().Get("other", {"users", "u1"}, "prefs", false)).has_value());
}

TEST_P(StorageContract, ItemDeleteSucceedsWhetherOrNotPresent) {
  Ok(s().items().Put(NewItem({"a"}, "k")));
  Ok(s().items().Delete("", {"a"}, "k"));
  EXPECT_FALSE(Ok(s().items().Get("", {"a"}, "k", false)).has_value());
  Ok(s().items().Delete("", {"a"}, "k"));
}

TEST_P(StorageContract, ItemSearchByPrefixNewestFirstWithPaging) {
  Ok(s().items().Put(NewItem({"docs", "a"}, "k1")));
  Advance(10);
  Ok(s().items().Put(NewItem({"docs", "a", "deep"}, "k2")));
  Advance(10);
  Ok(s().items().Put(NewItem({"docs", "ab"}, "k3")));  // "docs.ab" does not start "docs.a."
  Advance(10);
  Ok(s().items().Put(NewItem({"docs"}, "k4")));
  Advance(10);
  Ok(s().items().Put(NewItem({"other"}, "k5")));
  ItemSearch q;
  q.namespace_prefix = {"docs", "a"};
  EXPECT_EQ(Keys(Ok(s().items().Search(q))), (std::vector<std::string>{"k2", "k1"}));
  q.namespace_prefix = {"docs"};
  EXPECT_EQ(Keys(Ok(s().items().Search(q))), (std::vector<std::string>{"k4", "k3", "k2", "k1"}));
  q.limit = 2;
  q.offset = 1;
  EXPECT_EQ(Keys(Ok(s().items().Search(q))), (std::vector<std::string>{"k3", "k2"}));
  ItemSearch all;
  EXPECT_EQ(Ok(s().items().Search(all)).size(), 5u);
  all.tenant = "other";
  EXPECT_TRUE(Ok(s().items().Search(all)).empty());
}

TEST_P(StorageContract, ItemSearchFilterOperators) {
  Ok(s().items().Put(NewItem({"n"}, "a", R"({"n":1,"s":"x","tag":"red"})")));
  Advance(1);
  Ok(s().items().Put(NewItem({"n"}, "b", R"({"n":2,"s":"y","tag":"blue"})")));
  Advance(1);
  Ok(s().items().Put(NewItem({"n"}, "c", R"({"n":3.5,"s":"z"})")));
  auto search = [&](std::string_view filter) {
    ItemSearch q;
    q.namespace_prefix = {"n"};
    q.filter = Obj(filter);
    return Keys(Ok(s().items().Search(q)));
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(search(R"({"tag":"red"})"), (V{"a"}));
  EXPECT_EQ(search(R"({"n":2.0})"), (V{"b"}));
  EXPECT_EQ(search(R"({"n":{"$eq":1}})"), (V{"a"}));
  EXPECT_EQ(search(R"({"tag":{"$ne":"red"}})"), (V{"c", "b"}));
  EXPECT_EQ(search(R"({"n":{"$gt":1}})"), (V{"c", "b"}));
  EXPECT_EQ(search(R"({"n":{"$gte":2,"$lt":3.5}})"), (V{"b"}));
  EXPECT_EQ(search(R"({"n":{"$lte":2}})"), (V{"b", "a"}));
  EXPECT_EQ(search(R"({"s":{"$gt":"x"}})"), (V{"c", "b"}));
  EXPECT_EQ(search(R"({"tag":{"$in":["red","blue"]}})"), (V{"b", "a"}));
  EXPECT_EQ(search(R"({"tag":{"$nin":["red"]}})"), (V{"c", "b"}));
  EXPECT_EQ(search(R"({"tag":"red","n":2})"), (V{}));
  // Filtering happens before pagination.
  ItemSearch paged;
  paged.filter = Obj(R"({"n":{"$gte":2}})");
  paged.limit = 1;
  paged.offset = 1;
  EXPECT_EQ(Keys(Ok(s().items().Search(paged))), (V{"b"}));
}

TEST_P(StorageContract, ItemNamespacesPrefixSuffixWildcardDepthAndPaging) {
  Ok(s().items().Put(NewItem({"a", "b", "c"}, "k")));
  Ok(s().items().Put(NewItem({"a", "b", "d"}, "k")));
  Ok(s().items().Put(NewItem({"a", "x", "c"}, "k")));
  Ok(s().items().Put(NewItem({"z"}, "k")));
  Ok(s().items().Put(NewItem({"z"}, "k2")));
  Ok(s().items().Put(NewItem({"hidden"}, "k", "{}", std::nullopt, "other")));
  using L = std::vector<Ns>;
  NamespaceQuery all;
  EXPECT_EQ(Ok(s().items().ListNamespaces(all)),
            (L{{"a", "b", "c"}, {"a", "b", "d"}, {"a", "x", "c"}, {"z"}}));
  NamespaceQuery prefix;
  prefix.prefix = Ns{"a", "*"};
  prefix.suffix = Ns{"c"};
  EXPECT_EQ(Ok(s().items().ListNamespaces(prefix)), (L{{"a", "b", "c"}, {"a", "x", "c"}}));
  NamespaceQuery depth;
  depth.max_depth = 2;
  EXPECT_EQ(Ok(s().items().ListNamespaces(depth)), (L{{"a", "b"}, {"a", "x"}, {"z"}}));
  depth.limit = 1;
  depth.offset = 1;
  EXPECT_EQ(Ok(s().items().ListNamespaces(depth)), (L{{"a", "x"}}));
  NamespaceQuery suffix;
  suffix.suffix = Ns{"*", "d"};
  EXPECT_EQ(Ok(s().items().ListNamespaces(suffix)), (L{{"a", "b", "d"}}));
}

TEST_P(StorageContract, ItemTtlExpiresWithoutSleepingAndRefreshExtends) {
  Ok(s().items().Put(NewItem({"t"}, "short", "{}", 1.0)));   // 60 s
  Ok(s().items().Put(NewItem({"t2"}, "forever")));
  Advance(30'000);
  // A refreshing read at 30 s pushes expiry to 90 s.
  auto item = Ok(s().items().Get("", {"t"}, "short", /*refresh_ttl=*/true));
  ASSERT_TRUE(item.has_value());
  EXPECT_EQ(item->expires_at, kStart + 90'000);
  Advance(40'000);  // 70 s: alive only thanks to the refresh
  EXPECT_TRUE(Ok(s().items().Get("", {"t"}, "short", false)).has_value());
  Advance(20'000);  // 90 s: expired
  EXPECT_FALSE(Ok(s().items().Get("", {"t"}, "short", false)).has_value());
  ItemSearch q;
  EXPECT_EQ(Keys(Ok(s().items().Search(q))), (std::vector<std::string>{"forever"}));
  EXPECT_EQ(Ok(s().items().ListNamespaces(NamespaceQuery{})),
            (std::vector<Ns>{{"t2"}}));
  // Writing over an expired item creates it afresh.
  Ok(s().items().Put(NewItem({"t"}, "short")));
  auto reborn = Ok(s().items().Get("", {"t"}, "short", false));
  ASSERT_TRUE(reborn.has_value());
  EXPECT_EQ(reborn->created_at, Now());
  EXPECT_EQ(reborn->expires_at, 0);
}

TEST_P(StorageContract, ItemSearchRefreshTtlExtendsReturnedItems) {
  Ok(s().items().Put(NewItem({"t"}, "k", "{}", 1.0)));
  Advance(50'000);
  ItemSearch q;
  q.refresh_ttl = true;
  ASSERT_EQ(Ok(s().items().Search(q)).size(), 1u);
  Advance(50'000);  // 100 s: past the original 60 s, inside the refreshed 110 s
  EXPECT_TRUE(Ok(s().items().Get("", {"t"}, "k", false)).has_value());
}

TEST_P(StorageContract, PingAnswers) { Ok(s().Ping()); }

TEST_P(StorageContract, TruncateWipesChosenStoresAndKeepsSystemAssistants) {
  Ok(s().assistants().Create(NewAssistant("sys", "agent", "agent", R"({"created_by":"system"})"),
                             IfExists::kRaise));
  Ok(s().assistants().Create(NewAssistant("user"), IfExists::kRaise));
  Ok(s().threads().Create(NewThread("t1"), IfExists::kRaise));
  Ok(s().runs().Create(NewRun("r1", "t1")));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt, {"m"})));
  Ok(s().items().Put(NewItem({"n"}, "k")));

  TruncateOptions runs_only;
  runs_only.runs = true;
  Ok(s().Truncate(runs_only));
  EXPECT_EQ(Fails(s().runs().Get("", "r1")), Errc::kNotFound);
  Ok(s().threads().Get("", "t1"));
  Ok(s().assistants().Get("", "user"));

  TruncateOptions everything{true, true, true, true, true};
  Ok(s().Truncate(everything));
  Ok(s().assistants().Get("", "sys"));
  EXPECT_EQ(Ok(s().assistants().ListVersions("", "sys", std::nullopt, 10, 0)).size(), 1u);
  EXPECT_EQ(Fails(s().assistants().Get("", "user")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().threads().Get("", "t1")), Errc::kNotFound);
  EXPECT_EQ(Fails(s().checkpoints().Get("t1", "c1")), Errc::kNotFound);
  EXPECT_FALSE(Ok(s().items().Get("", {"n"}, "k", false)).has_value());
  // Ids are free again after a wipe.
  Ok(s().assistants().Create(NewAssistant("user"), IfExists::kRaise));
  Ok(s().checkpoints().Put(NewCheckpoint("t1", "c1", std::nullopt)));
}

}  // namespace
}  // namespace agentd::storage::contract
