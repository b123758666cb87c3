// Sweeps: grid parsing, the checks that run before anything else, the MobileNet
// scaling laws against the papers' tables, the Pareto front, measuring and resuming.
#include <gtest/gtest.h>

#include "runtime/schedule.h"
#include "sweep/sweep.h"
#include "test_util.h"

namespace convscope {
namespace {

TEST(Sweep, ParsesGrids) {
  EXPECT_EQ(*sweep::parse_resolutions("96:224:32"), (std::vector<std::int64_t>{96, 128, 160, 192, 224}));
  EXPECT_EQ(*sweep::parse_resolutions("128,224"), (std::vector<std::int64_t>{128, 224}));
  EXPECT_EQ(*sweep::parse_alphas("0.35,1.4"), (std::vector<double>{0.35, 1.4}));
  const auto axis = *sweep::parse_param_axis("inverted_residual.expansion=4,6");
  EXPECT_EQ(axis.selector, "inverted_residual.expansion");
  ASSERT_EQ(axis.values.size(), 2u);
  EXPECT_EQ(std::get<std::int64_t>(axis.values[1]), 6);
  EXPECT_EQ(sweep::parse_resolutions("224:96:32").error().front().str(), "resolution: STOP 96 is below START 224");
  EXPECT_EQ(sweep::parse_resolutions("96:224:0").error().front().str(),
            "resolution: the step must be positive, got 0");
  EXPECT_FALSE(sweep::parse_alphas("one").has_value());
  EXPECT_FALSE(sweep::parse_param_axis("expansion").has_value());
}

TEST(Sweep, RefusesAbsurdGridsBeforeRunning) {
  const ir::Graph g = testing::load_preset("squeezenet1_0");
  sweep::Spec s;
  s.alphas = {0.0};
  EXPECT_EQ(sweep::check(g, s).error().front().str(), "alpha: must be in (0, 16], got 0");
  s.alphas = {1.0};
  s.resolutions = {8};
  const auto r = sweep::check(g, s);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().front().message.find("resolution 8 is below this network's minimum of 29"), std::string::npos)
      << r.error().front().str();
  s.resolutions = {224};
  s.params = {{"nonsense", {std::int64_t{1}}}};
  EXPECT_EQ(sweep::check(g, s).error().front().str(), "param: 'nonsense' matches no block of this graph");
}

TEST(Sweep, MobileNetV1Tables6And7) {
  // The paper: alpha 0.75 / 0.5 / 0.25 at 224 -> 325 / 149 / 41 M MAdds and 2.6 / 1.3 / 0.5 M params;
  // resolution 192 / 160 / 128 at alpha 1 -> 418 / 290 / 186 M MAdds.
  const ir::Graph g = testing::load_preset("mobilenet_v1");
  sweep::Spec s;
  s.alphas = {0.25, 0.5, 0.75, 1.0};
  s.resolutions = {128, 160, 192, 224};
  auto points = sweep::evaluate(g, s);
  ASSERT_EQ(points.size(), 16u);
  auto at = [&](double a, std::int64_t r) -> const sweep::Point& {
    for (const auto& p : points)
      if (p.alpha == a && p.resolution == r) return p;
    throw std::runtime_error("missing point");
  };
  EXPECT_EQ(at(0.75, 224).madds / 1000000, 325);
  EXPECT_EQ(at(0.5, 224).madds / 1000000, 149);
  EXPECT_EQ(at(0.25, 224).madds / 1000000, 41);
  EXPECT_NEAR(static_cast<double>(at(0.75, 224).params) / 1e6, 2.6, 0.05);
  EXPECT_NEAR(static_cast<double>(at(0.5, 224).params) / 1e6, 1.3, 0.05);
  EXPECT_NEAR(static_cast<double>(at(0.25, 224).params) / 1e6, 0.5, 0.05);
  EXPECT_EQ(at(1.0, 192).madds / 1000000, 418);
  EXPECT_EQ(at(1.0, 160).madds / 1000000, 290);
  EXPECT_EQ(at(1.0, 128).madds / 1000000, 186);
  sweep::fill_laws(points);
  // MAdds follow alpha^2 rho^2 within 2 % while alpha >= 0.75 (the first conv and the
  // classifier do not scale with alpha); parameters follow alpha^2 less well (the classifier).
  EXPECT_NEAR(at(0.75, 160).madds_law, 1.0, 0.02);
  EXPECT_NEAR(at(1.0, 128).madds_law, 1.0, 0.01);
  EXPECT_GT(at(0.25, 224).params_law, 1.5);  // 1024 x 1000 classifier weights do not shrink
  EXPECT_DOUBLE_EQ(at(1.0, 224).madds_law, 1.0);
}

TEST(Sweep, BlockParameterAxisAndPareto) {
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  sweep::Spec s;
  s.alphas = {0.5, 1.0};
  s.params = {*sweep::parse_param_axis("inverted_residual.expansion=2,4,6")};
  auto points = sweep::evaluate(g, s);
  ASSERT_EQ(points.size(), 6u);
  for (std::size_t i = 1; i < 3; ++i) EXPECT_LT(points[i - 1].madds, points[i].madds);  // more expansion, more MAdds
  sweep::mark_pareto(points, sweep::Metric::MAdds, sweep::Metric::Params);
  EXPECT_TRUE(points[0].pareto);   // alpha 0.5, t = 2: fewest of both
  EXPECT_FALSE(points[5].pareto);  // alpha 1, t = 6: dominated
  // The CSV has one row per point and names the axis.
  const std::string csv = sweep::to_csv(s, points);
  EXPECT_EQ(csv.rfind("alpha,resolution,inverted_residual.expansion,valid,params,madds", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
}

TEST(Sweep, PredictsEveryPointWithTheLatencyModel) {
  // A model where every step costs 1 us: the points' predictions are exact step counts.
  const auto m = profile::LatencyModel::per_step(1000.0);
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  sweep::Spec s;
  s.alphas = {0.5, 1.0};
  s.resolutions = {96, 224};
  auto points = sweep::evaluate(g, s, {}, &m);
  ASSERT_EQ(points.size(), 4u);
  for (const auto& p : points) {
    ASSERT_TRUE(p.predicted_ms) << p.alpha;
    const auto a = cost::analyze(sweep::apply(g, s, p));
    const auto sched = runtime::Schedule::build(g, a, {});
    EXPECT_NEAR(*p.predicted_ms, static_cast<double>(sched->steps.size()) * 1e-3, 1e-9);  // 1 us per step
    EXPECT_FALSE(p.extrapolated);
    EXPECT_FALSE(p.prediction_error());  // nothing measured
  }
  // Latency on an axis and nothing measured: the predicted latency stands in (not MAdds).
  const auto axes = sweep::mark_pareto(points, sweep::Metric::Latency, sweep::Metric::Params);
  EXPECT_EQ(axes.x, sweep::Metric::Predicted);
  const std::string csv = sweep::to_csv(s, points);
  EXPECT_NE(csv.find(",predicted_ms,prediction_error,extrapolated,"), std::string::npos);
  // Measured beside predicted: the error per point.
  points[0].median_ms = *points[0].predicted_ms * 1.1;
  EXPECT_NEAR(*points[0].prediction_error(), 0.1, 1e-12);
  EXPECT_NE(sweep::to_json(s, points).find("\"prediction_error\": 0.1"), std::string::npos);
  // Without a model nothing is predicted, and MAdds stand in.
  auto plain = sweep::evaluate(g, s);
  EXPECT_FALSE(plain[0].predicted_ms);
  EXPECT_EQ(sweep::mark_pareto(plain, sweep::Metric::Latency, sweep::Metric::Params).x, sweep::Metric::MAdds);
}

TEST(Sweep, ThousandsOfPointsASecond) {
  // Not a timing assertion: the grid is simply large enough that a slow path would show in CI time.
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  sweep::Spec s;
  s.alphas = {0.35, 0.5, 0.75, 1.0, 1.3, 1.4};
  s.resolutions = *sweep::parse_resolutions("96:256:8");
  const auto points = sweep::evaluate(g, s);
  EXPECT_EQ(points.size(), 6u * 21u);
  for (const auto& p : points) EXPECT_TRUE(p.valid) << p.problem;
}

TEST(Sweep, MeasuresAndResumes) {
  const ir::Graph g = testing::load_preset("mobilenet_v3_small");
  sweep::Spec s;
  s.alphas = {0.5, 1.0};
  s.resolutions = {64, 96};
  auto points = sweep::evaluate(g, s);
  // Pretend an earlier run measured the first point.
  points[0].median_ms = points[0].min_ms = points[0].p90_ms = 123.0;
  std::size_t checkpoints = 0;
  sweep::MeasureOptions o;
  o.min_seconds = 0.0;
  o.min_runs = 2;
  o.checkpoint = [&](const std::vector<sweep::Point>&) { ++checkpoints; };
  ASSERT_TRUE(sweep::measure(g, s, points, o));
  EXPECT_EQ(checkpoints, 3u);
  EXPECT_DOUBLE_EQ(*points[0].median_ms, 123.0);  // kept, not measured again
  for (std::size_t i = 1; i < points.size(); ++i) {
    ASSERT_TRUE(points[i].median_ms.has_value());
    EXPECT_GT(*points[i].median_ms, 0.0);
  }
  // What a previous run wrote is read back for the same grid.
  const auto back = sweep::read_previous(sweep::to_csv(s, points), s);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(sweep::point_key(back[2]), sweep::point_key(points[2]));
  EXPECT_NEAR(*back[2].median_ms, *points[2].median_ms, 1e-4 * *points[2].median_ms);
  const auto back_json = sweep::read_previous(sweep::to_json(s, points), s);
  EXPECT_EQ(back_json.size(), 4u);
  // Cancel before anything: nothing more is measured.
  std::atomic<bool> cancel{true};
  auto fresh = sweep::evaluate(g, s);
  o.cancel = &cancel;
  EXPECT_FALSE(sweep::measure(g, s, fresh, o));
  EXPECT_FALSE(fresh[0].median_ms.has_value());
}

}  // namespace
}  // namespace convscope
