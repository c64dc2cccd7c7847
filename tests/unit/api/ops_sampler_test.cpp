// The operations sampler's arithmetic: histogram quantiles, per-interval latency, and what a
// sample holds, from a real Metrics registry and Health.

#include "api/ops_sampler.hpp"

#include <boost/asio/this_coro.hpp>
#include <gtest/gtest.h>

#include "bus/inproc/inproc_pubsub.hpp"
#include "support/run_co.hpp"

namespace agentd::api {
namespace {

namespace json = boost::json;

TEST(HistogramQuantile, InterpolatesInsideTheBucket) {
  const std::vector<double> bounds = {1, 2, 4};
  // 10 observations in (1, 2], none elsewhere.
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {0, 10, 0, 0}, 0.5), 1.5);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {0, 10, 0, 0}, 1.0), 2.0);
  // Half below 1, half in (2, 4].
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {5, 0, 5, 0}, 0.5), 1.0);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {5, 0, 5, 0}, 0.9), 3.6);
  // The +Inf bucket reports the last bound; nothing observed: no value.
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {0, 0, 0, 3}, 0.5), 4.0);
  EXPECT_FALSE(HistogramQuantile(bounds, {0, 0, 0, 0}, 0.5));
}

class OpsSampleTest : public ::testing::Test {
 protected:
  observe::Metrics metrics_;
  observe::Health health_{2, std::chrono::seconds(5)};
  config::Config config_;
  OpsSources Sources() { return OpsSources{metrics_, health_, config_, nullptr, nullptr, nullptr, "v"}; }
};

TEST_F(OpsSampleTest, LatencyQuantilesCoverOnlyTheInterval) {
  auto& latency = metrics_.GetHistogram("agentd_llm_latency_seconds", "", {{"model", "gpt"}});
  OpsSampler::Previous previous;
  for (int i = 0; i < 10; ++i) latency.Observe(0.004);  // (2.5 ms, 5 ms]
  json::object first = OpsSampler::BuildSample(Sources(), previous, 1.5, {});
  const auto& m1 = first.at("models").as_array().at(0).as_object();
  EXPECT_EQ(m1.at("latency").at("interval_count").to_number<int>(), 10);
  EXPECT_GT(m1.at("latency").at("p50_ms").to_number<double>(), 2.5);
  EXPECT_LE(m1.at("latency").at("p50_ms").to_number<double>(), 5.0);
  EXPECT_DOUBLE_EQ(first.at("storage").at("ping_ms").to_number<double>(), 1.5);

  json::object quiet = OpsSampler::BuildSample(Sources(), previous, std::nullopt, "down");
  const auto& m2 = quiet.at("models").as_array().at(0).as_object();
  EXPECT_EQ(m2.at("latency").at("interval_count").to_number<int>(), 0);
  EXPECT_TRUE(m2.at("latency").at("p50_ms").is_null());
  EXPECT_EQ(m2.at("latency").at("count").to_number<int>(), 10);  // cumulative
  EXPECT_EQ(quiet.at("storage").at("error").as_string(), "down");

  for (int i = 0; i < 4; ++i) latency.Observe(8.0);  // (5 s, 10 s]
  json::object slow = OpsSampler::BuildSample(Sources(), previous, std::nullopt, {});
  const auto& m3 = slow.at("models").as_array().at(0).as_object();
  EXPECT_EQ(m3.at("latency").at("interval_count").to_number<int>(), 4);
  EXPECT_GT(m3.at("latency").at("p50_ms").to_number<double>(), 5000.0);
}

TEST_F(OpsSampleTest, GroupsRefusalsAndLoops) {
  metrics_.GetCounter("agentd_admission_rejections_total", "", {{"reason", "server_saturated"}}).Inc(2);
  metrics_.GetCounter("agentd_ratelimit_rejections_total", "", {{"limit", "per_ip"}}).Inc(5);
  health_.RecordTick(1, std::chrono::steady_clock::now(), std::chrono::microseconds(1500));
  OpsSampler::Previous previous;
  json::object s = OpsSampler::BuildSample(Sources(), previous, std::nullopt, {});
  EXPECT_EQ(s.at("refusals").at("admission").at("server_saturated").to_number<int>(), 2);
  EXPECT_EQ(s.at("refusals").at("rate_limit").at("per_ip").to_number<int>(), 5);
  const auto& loops = s.at("loops").as_array();
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_DOUBLE_EQ(loops.at(1).at("lag_ms").to_number<double>(), 1.5);
  EXPECT_FALSE(s.contains("admission"));  // no scheduler given
}

TEST_F(OpsSampleTest, ViewersShareOneSamplerThatStopsWithTheLastOne) {
  auto sampler = OpsSampler::Make(Sources(), std::chrono::milliseconds(100));
  auto result = agentd::testing::RunCo(
      [](std::shared_ptr<OpsSampler> sampler) -> boost::asio::awaitable<int> {
        auto executor = co_await boost::asio::this_coro::executor;
        auto a = sampler->Join(executor);
        auto b = sampler->Join(executor);
        EXPECT_EQ(sampler->viewers(), 2u);
        // Both see the same first frame: one sample, handed to both.
        auto fa = co_await a->Next(std::chrono::seconds(5));
        auto fb = co_await b->Next(std::chrono::seconds(5));
        EXPECT_TRUE(fa && fb && !fa->empty() && !fb->empty());
        if (fa && fb && !fa->empty() && !fb->empty()) EXPECT_EQ(fa->front(), fb->front());
        a.reset();
        b.reset();
        sampler->Stop();
        auto c = sampler->Join(executor);
        auto fc = co_await c->Next(std::chrono::seconds(5));
        EXPECT_FALSE(fc.has_value());  // stopped: the stream ends
        co_return static_cast<int>(sampler->samples_taken());
      }(sampler));
  EXPECT_GE(result, 1);
}

TEST_F(OpsSampleTest, AWatchedInstanceListsTheOthersOfTheCluster) {
  observe::Health other_health{1, std::chrono::seconds(5)};
  auto result = agentd::testing::RunCo(
      [](OpsSources a_sources, OpsSources b_sources) -> boost::asio::awaitable<bool> {
        auto executor = co_await boost::asio::this_coro::executor;
        auto pubsub = bus::inproc::MakeInprocPubSub(executor);
        auto a = OpsSampler::Make(a_sources, std::chrono::milliseconds(50));
        auto b = OpsSampler::Make(b_sources, std::chrono::milliseconds(50));
        a->StartCluster(*pubsub, executor);
        b->StartCluster(*pubsub, executor);
        auto viewer = a->Join(executor);  // only a is watched
        bool saw_b = false;
        for (int i = 0; i < 100 && !saw_b; ++i) {
          auto frames = co_await viewer->Next(std::chrono::seconds(5));
          if (!frames) break;
          for (const auto& f : *frames) {
            saw_b = saw_b || (f->find("\"instance\":\"a\"") != std::string::npos &&
                              f->find("\"instance\":\"b\"") != std::string::npos);
          }
        }
        EXPECT_EQ(b->samples_taken(), 0u);  // b answered without sampling
        a->Stop();
        b->Stop();
        co_return saw_b;
      }(OpsSources{metrics_, health_, config_, nullptr, nullptr, nullptr, "v", "a"},
        OpsSources{metrics_, other_health, config_, nullptr, nullptr, nullptr, "v", "b"}));
  EXPECT_TRUE(result);
}

}  // namespace
}  // namespace agentd::api
