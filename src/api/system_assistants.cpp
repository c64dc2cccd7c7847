#include "api/system_assistants.hpp"

#include <algorithm>
#include <tuple>

#include "storage/query.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;
using storage::AssistantQuery;
using storage::Page;
template <class T>
using Task = storage::Task<T>;

constexpr std::int64_t kMaxSystemAssistants = 1000;  // one per graph
constexpr std::string_view kReadOnly = "System assistants cannot be modified";

bool Before(const model::Assistant& a, const model::Assistant& b, const AssistantQuery& q) {
  auto key = [&](const model::Assistant& x) {
    if (q.sort_by == "assistant_id") return std::tuple<std::string_view, std::int64_t>(x.assistant_id, 0);
    if (q.sort_by == "graph_id") return std::tuple<std::string_view, std::int64_t>(x.graph_id, 0);
    if (q.sort_by == "name") return std::tuple<std::string_view, std::int64_t>(x.name, 0);
    if (q.sort_by == "updated_at") return std::tuple<std::string_view, std::int64_t>("", x.updated_at);
    return std::tuple<std::string_view, std::int64_t>("", x.created_at);
  };
  return q.sort_order == model::SortOrder::kAsc ? key(a) < key(b) : key(b) < key(a);
}

class SharedAssistants final : public storage::AssistantStore {
 public:
  explicit SharedAssistants(storage::AssistantStore& inner) : inner_(inner) {}

  Task<Result<model::Assistant>> Create(model::Assistant a, storage::IfExists if_exists) override {
    return inner_.Create(std::move(a), if_exists);
  }

  Task<Result<model::Assistant>> Get(std::string tenant, std::string id) override {
    auto own = co_await inner_.Get(tenant, id);
    if (own || tenant.empty() || !MissingHere(own.error())) co_return own;
    co_return co_await inner_.Get("", std::move(id));
  }

  Task<Result<model::Assistant>> Update(std::string tenant, std::string id,
                                        storage::AssistantPatch patch) override {
    auto r = co_await inner_.Update(tenant, id, std::move(patch));
    if (!r) co_return co_await ReadOnlyIfSystem(r.error(), tenant, id);
    co_return r;
  }

  Task<Status> Delete(std::string tenant, std::string id, bool delete_threads) override {
    auto r = co_await inner_.Delete(tenant, id, delete_threads);
    if (!r) co_return co_await ReadOnlyIfSystem(r.error(), tenant, id);
    co_return r;
  }

  Task<Result<Page<model::Assistant>>> Search(AssistantQuery q) override {
    if (q.tenant.empty()) co_return co_await inner_.Search(std::move(q));
    AssistantQuery own_q = q;
    own_q.offset = 0;
    own_q.limit = q.offset + q.limit;
    AssistantQuery sys_q = q;
    sys_q.tenant = "";
    sys_q.offset = 0;
    sys_q.limit = kMaxSystemAssistants;
    auto own = co_await inner_.Search(std::move(own_q));
    if (!own) co_return own;
    auto sys = co_await inner_.Search(std::move(sys_q));
    if (!sys) co_return sys;
    std::vector<model::Assistant> all = std::move(own->items);
    for (auto& a : sys->items) all.push_back(std::move(a));
    std::stable_sort(all.begin(), all.end(),
                     [&](const model::Assistant& a, const model::Assistant& b) { return Before(a, b, q); });
    Page<model::Assistant> page;
    page.total = own->total + sys->total;
    const auto begin = std::min<std::size_t>(all.size(), static_cast<std::size_t>(q.offset));
    const auto end = std::min<std::size_t>(all.size(), begin + static_cast<std::size_t>(q.limit));
    page.items.assign(std::make_move_iterator(all.begin() + begin), std::make_move_iterator(all.begin() + end));
    co_return page;
  }

  Task<Result<std::int64_t>> Count(AssistantQuery q) override {
    if (q.tenant.empty()) co_return co_await inner_.Count(std::move(q));
    AssistantQuery sys_q = q;
    sys_q.tenant = "";
    auto own = co_await inner_.Count(std::move(q));
    if (!own) co_return own;
    auto sys = co_await inner_.Count(std::move(sys_q));
    if (!sys) co_return sys;
    co_return *own + *sys;
  }

  Task<Result<std::vector<model::AssistantVersion>>> ListVersions(
      std::string tenant, std::string id, std::optional<json::object> metadata, std::int64_t limit,
      std::int64_t offset) override {
    auto own = co_await inner_.ListVersions(tenant, id, metadata, limit, offset);
    if (own || tenant.empty() || !MissingHere(own.error())) co_return own;
    co_return co_await inner_.ListVersions("", std::move(id), std::move(metadata), limit, offset);
  }

  Task<Result<model::Assistant>> SetLatest(std::string tenant, std::string id,
                                           std::int64_t version) override {
    auto r = co_await inner_.SetLatest(tenant, id, version);
    if (!r) co_return co_await ReadOnlyIfSystem(r.error(), tenant, id);
    co_return r;
  }

  // The sweeper's listing: every tenant's, system assistants never expire.
  Task<Result<std::vector<model::Assistant>>> ListExpired(TimestampMs now,
                                                          std::int64_t limit) override {
    return inner_.ListExpired(now, limit);
  }

 private:
  // Not the tenant's, so maybe a system assistant. An expired one of the tenant's own is
  // there (and says so), so it is not looked up again.
  static bool MissingHere(const Error& error) {
    return error.code == Errc::kNotFound && !storage::IsExpiredError(error);
  }

  // A tenant's write that missed: kConflict when it aimed at a system assistant.
  Task<Error> ReadOnlyIfSystem(Error error, const std::string& tenant, const std::string& id) {
    if (tenant.empty() || !MissingHere(error)) co_return error;
    auto sys = co_await inner_.Get("", id);
    if (sys) co_return MakeError(Errc::kConflict, std::string(kReadOnly));
    co_return error;
  }

  storage::AssistantStore& inner_;
};

class SharedStorage final : public storage::Storage {
 public:
  explicit SharedStorage(storage::Storage& inner) : inner_(inner), assistants_(inner.assistants()) {}
  storage::AssistantStore& assistants() override { return assistants_; }
  storage::ThreadStore& threads() override { return inner_.threads(); }
  storage::CheckpointStore& checkpoints() override { return inner_.checkpoints(); }
  storage::RunStore& runs() override { return inner_.runs(); }
  storage::RunLeases* leases() override { return inner_.leases(); }
  storage::ItemStore& items() override { return inner_.items(); }
  Task<Status> Ping() override { return inner_.Ping(); }
  bool Writable(std::string* why) const override { return inner_.Writable(why); }
  Task<Status> Truncate(storage::TruncateOptions options) override { return inner_.Truncate(options); }
  std::string_view backend_name() const override { return inner_.backend_name(); }

 private:
  storage::Storage& inner_;
  SharedAssistants assistants_;
};

}  // namespace

std::unique_ptr<storage::Storage> MakeSharedSystemAssistants(storage::Storage& inner) {
  return std::make_unique<SharedStorage>(inner);
}

}  // namespace agentd::api
