#include "observe/metrics.hpp"

#include <gtest/gtest.h>

namespace agentd::observe {
namespace {

TEST(Metrics, RendersEveryKindInPrometheusTextFormat) {
  Metrics m;
  m.GetCounter("agentd_http_requests_total", "HTTP requests answered",
               {{"route", "/threads/{thread_id}"}, {"method", "GET"}, {"status", "200"}})
      .Inc(3);
  m.GetGauge("agentd_http_open_connections", "Open connections").Set(2);
  auto& h = m.GetHistogram("agentd_http_request_duration_seconds", "Latency", {{"route", "/ok"}},
                           {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  m.AddCallbackGauge("agentd_queue_depth", "Queued runs", {}, [] { return 7.5; });

  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP agentd_http_open_connections Open connections\n"
            "# TYPE agentd_http_open_connections gauge\n"
            "agentd_http_open_connections 2\n"
            "# HELP agentd_http_request_duration_seconds Latency\n"
            "# TYPE agentd_http_request_duration_seconds histogram\n"
            "agentd_http_request_duration_seconds_bucket{route=\"/ok\",le=\"0.1\"} 1\n"
            "agentd_http_request_duration_seconds_bucket{route=\"/ok\",le=\"1\"} 2\n"
            "agentd_http_request_duration_seconds_bucket{route=\"/ok\",le=\"+Inf\"} 3\n"
            "agentd_http_request_duration_seconds_sum{route=\"/ok\"} 5.55\n"
            "agentd_http_request_duration_seconds_count{route=\"/ok\"} 3\n"
            "# HELP agentd_http_requests_total HTTP requests answered\n"
            "# TYPE agentd_http_requests_total counter\n"
            "agentd_http_requests_total{route=\"/threads/{thread_id}\",method=\"GET\",status=\"200\"} 3\n"
            "# HELP agentd_queue_depth Queued runs\n"
            "# TYPE agentd_queue_depth gauge\n"
            "agentd_queue_depth 7.5\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Metrics m;
  m.GetCounter("agentd_x_total", "line one\nback\\slash", {{"v", "a\"b\\c\nd"}}).Inc();
  EXPECT_EQ(m.RenderPrometheus(),
            "# HELP agentd_x_total line one\\nback\\\\slash\n"
            "# TYPE agentd_x_total counter\n"
            "agentd_x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, SameNameAndLabelsReturnTheSameSeries) {
  Metrics m;
  auto& a = m.GetCounter("agentd_y_total", "y", {{"k", "1"}});
  auto& b = m.GetCounter("agentd_y_total", "y", {{"k", "1"}});
  auto& c = m.GetCounter("agentd_y_total", "y", {{"k", "2"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Histogram, BucketsAreCumulativeAndBoundsInclusive) {
  Histogram h({1, 2});
  h.Observe(1);  // le="1" includes 1
  h.Observe(1.5);
  h.Observe(3);
  EXPECT_EQ(h.BucketCounts(), (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(h.count(), 3u);
  EXPECT_DOUBLE_EQ(h.sum(), 5.5);
}

TEST(Gauge, AddAccumulates) {
  Gauge g;
  g.Add(2);
  g.Add(-0.5);
  EXPECT_DOUBLE_EQ(g.value(), 1.5);
}

}  // namespace
}  // namespace agentd::observe
