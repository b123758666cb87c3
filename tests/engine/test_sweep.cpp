// Sweeps: grid parsing, the checks that run before anything else, the MobileNet
// scaling laws against the papers' tables, the Pareto front, measuring and resuming.
#include <gtest/gtest.h>

#include "profile/fusion_choice.h"
#include "runtime/schedule.h"
#include "sweep/session.h"
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
  EXPECT_EQ(sweep::parse_resolutions("96:224:0").error().front().str(), "resolution: the step must be positive, got 0");
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
  EXPECT_EQ(std::count_if(points.begin(), points.end(), [](const sweep::Point& p) { return p.pareto; }), 1);
  // The most parameters for the MAdds: a point is off the front only where another has at most
  // its MAdds and at least its parameters, one of them strictly.
  const auto axes = sweep::mark_pareto(points, {sweep::Metric::MAdds, sweep::Metric::Params, true});
  EXPECT_TRUE(axes.y_more);
  for (const auto& p : points) {
    bool dominated = false;
    for (const auto& q : points)
      dominated |= q.madds <= p.madds && q.params >= p.params && (q.madds < p.madds || q.params > p.params);
    EXPECT_EQ(p.pareto, !dominated) << p.alpha;
  }
  EXPECT_TRUE(points[0].pareto);  // the fewest MAdds
  EXPECT_GT(std::count_if(points.begin(), points.end(), [](const sweep::Point& p) { return p.pareto; }), 1);
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
    // The plan the point runs: with one cost per step, every block fused (one step instead of 2 to 4).
    const auto sched = runtime::Schedule::build(g, a, profile::apply_fusion(g, a, &m, {}, {}));
    EXPECT_NEAR(*p.predicted_ms, static_cast<double>(sched->steps.size()) * 1e-3, 1e-9);  // 1 us per step
    EXPECT_EQ(sched->steps.size(), 21u);  // conv1, 17 fused blocks, conv_last, pool, fc
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
  // A model with a speed probe reference: every measured point gets the machine's speed.
  profile::LatencyModel model = profile::LatencyModel::per_step(1000.0);
  model.reference_ns = 1e6;
  o.model = &model;
  ASSERT_TRUE(sweep::measure(g, s, points, o));
  EXPECT_EQ(checkpoints, 3u);
  EXPECT_DOUBLE_EQ(*points[0].median_ms, 123.0);  // kept, not measured again
  EXPECT_FALSE(points[0].machine_speed.has_value());
  for (std::size_t i = 1; i < points.size(); ++i) {
    ASSERT_TRUE(points[i].median_ms.has_value());
    EXPECT_GT(*points[i].median_ms, 0.0);
    ASSERT_TRUE(points[i].machine_speed.has_value());
    EXPECT_GT(*points[i].machine_speed, 0.0);
  }
  EXPECT_NE(sweep::to_csv(s, points).find(",extrapolated,machine_speed,problem"), std::string::npos);
  // What a previous run wrote is read back for the same grid.
  const auto back = sweep::read_previous(sweep::to_csv(s, points), s);
  ASSERT_EQ(back.size(), 4u);
  EXPECT_EQ(sweep::point_key(back[2]), sweep::point_key(points[2]));
  EXPECT_NEAR(*back[2].median_ms, *points[2].median_ms, 1e-4 * *points[2].median_ms);
  ASSERT_TRUE(back[2].machine_speed.has_value());
  EXPECT_NEAR(*back[2].machine_speed, *points[2].machine_speed, 1e-4 * *points[2].machine_speed);
  const auto back_json = sweep::read_previous(sweep::to_json(s, points), s);
  EXPECT_EQ(back_json.size(), 4u);
  EXPECT_TRUE(back_json[2].machine_speed.has_value());
  // Cancel before anything: nothing more is measured.
  std::atomic<bool> cancel{true};
  auto fresh = sweep::evaluate(g, s);
  o.cancel = &cancel;
  EXPECT_FALSE(sweep::measure(g, s, fresh, o));
  EXPECT_FALSE(fresh[0].median_ms.has_value());
}

TEST(SweepSession, ParsesTheGridTextAndNamesEveryBadField) {
  const auto spec = sweep::parse_spec({"0.5,1", "96:224:64", {"expansion=4,6", "kernel=3,5"}});
  ASSERT_TRUE(spec) << spec.error().front().str();
  EXPECT_EQ(spec->alphas, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(spec->resolutions, (std::vector<std::int64_t>{96, 160, 224}));
  ASSERT_EQ(spec->params.size(), 2u);
  EXPECT_EQ(sweep::point_count(*spec), 2u * 3u * 2u * 2u);
  EXPECT_EQ(sweep::point_count(sweep::Spec{}), 1u);  // the graph's own point
  // Every bad field is reported at once, under the engine's field names.
  const auto bad = sweep::parse_spec({"x", "9:3", {"expansion"}});
  ASSERT_FALSE(bad);
  ASSERT_EQ(bad.error().size(), 3u);
  EXPECT_EQ(bad.error()[0].where, "alpha");
  EXPECT_EQ(bad.error()[1].where, "resolution");
  EXPECT_EQ(bad.error()[2].where, "param");
  // A grid too large to enumerate saturates instead of wrapping.
  sweep::Spec huge;
  for (int i = 0; i < 8; ++i)
    huge.params.push_back({"expansion", std::vector<ir::ParamValue>(1 << 10, std::int64_t{1})});
  EXPECT_EQ(sweep::point_count(huge), std::numeric_limits<std::size_t>::max());
}

TEST(SweepSession, KeepsPointsLawsAndFrontConsistent) {
  const ir::Graph g = testing::load_preset("mobilenet_v2");
  sweep::Spec s;
  s.alphas = {0.5, 1.0};
  s.resolutions = {96, 128};
  s.params = {*sweep::parse_param_axis("inverted_residual.expansion=4,6")};
  // A refused grid never becomes a session.
  sweep::Spec refused = s;
  refused.alphas = {0.0};
  EXPECT_EQ(sweep::Session::start(g, refused).error().front().where, "alpha");

  sweep::SessionSetup setup;
  setup.model = profile::LatencyModel::per_step(1000.0);
  auto started = sweep::Session::start(g, s, setup);
  ASSERT_TRUE(started);
  sweep::Session& session = *started;
  // The same points as evaluate(), indexed by grid position.
  const auto expect = sweep::evaluate(g, s, {}, &*setup.model);
  ASSERT_EQ(session.points().size(), 8u);
  for (std::size_t i = 0; i < expect.size(); ++i) EXPECT_EQ(session.points()[i].madds, expect[i].madds);
  const auto& grid = session.grid();
  EXPECT_EQ(grid.alphas, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(grid.resolutions, (std::vector<std::int64_t>{96, 128}));
  ASSERT_EQ(grid.combos.size(), 2u);
  EXPECT_EQ(grid.cells[5].alpha, 1u);  // alpha-major, then resolution, then the parameter
  EXPECT_EQ(grid.cells[5].resolution, 0u);
  EXPECT_EQ(grid.cells[5].combo, 1u);
  // Nothing measured: the front is on the predicted latency, and the laws are filled.
  EXPECT_EQ(session.front_axes().x, sweep::Metric::Predicted);
  EXPECT_GT(session.summary().front, 0u);
  EXPECT_EQ(session.summary().predicted, 8u);
  EXPECT_NEAR(session.points()[6].madds_law, 1.0, 1e-12);  // the reference: largest alpha and resolution, first values
  EXPECT_NE(session.model_description().find("latency model"), std::string::npos);
  EXPECT_EQ(session.point_graph(0).settings.alpha, 0.5);

  // An earlier run's output measured point 6 only: it is the whole front (latency among measured points).
  std::vector<sweep::Point> earlier = session.points();
  earlier[6].median_ms = earlier[6].min_ms = earlier[6].p90_ms = 2.5;
  EXPECT_EQ(session.resume(sweep::to_csv(s, earlier)), 1u);
  EXPECT_EQ(session.front_axes().x, sweep::Metric::Latency);
  EXPECT_EQ(session.summary().measured, 1u);
  EXPECT_EQ(session.summary().front, 1u);
  EXPECT_TRUE(session.points()[6].pareto);

  // Recounted under another convention and without a model: costs change, measured times stay.
  cost::AnalysisOptions torchvision;
  torchvision.convention = *cost::find_convention("torchvision");
  session.recount(torchvision, std::nullopt);
  EXPECT_FALSE(session.points()[0].predicted_ms);
  EXPECT_DOUBLE_EQ(*session.points()[6].median_ms, 2.5);
  EXPECT_EQ(session.points()[0].params,
            cost::analyze(sweep::apply(g, s, session.points()[0]), torchvision).totals.params);
  EXPECT_TRUE(session.model_description().empty());
  EXPECT_TRUE(session.points()[6].pareto);
  // Another front: MAdds against parameters, over every valid point.
  session.set_pareto({sweep::Metric::MAdds, sweep::Metric::Params});
  EXPECT_EQ(session.front_axes().x, sweep::Metric::MAdds);
  EXPECT_TRUE(session.points()[0].pareto);   // alpha 0.5, 96 px, t = 4: fewest of both
  EXPECT_FALSE(session.points()[7].pareto);  // alpha 1, 128 px, t = 6: dominated
}

TEST(SweepSession, MeasuresWithTheFrontMarkedAtEveryCheckpoint) {
  const ir::Graph g = testing::load_preset("mobilenet_v3_small");
  sweep::Spec s;
  s.alphas = {0.5, 1.0};
  s.resolutions = {64};
  auto session = *sweep::Session::start(g, s);
  std::vector<std::size_t> fronts;
  sweep::MeasureOptions o;
  o.min_seconds = 0.0;
  o.min_runs = 2;
  o.checkpoint = [&](const std::vector<sweep::Point>& points) {
    // Only measured points compete on latency: after the first, it alone is the front.
    fronts.push_back(static_cast<std::size_t>(
        std::count_if(points.begin(), points.end(), [](const sweep::Point& p) { return p.pareto; })));
    for (const auto& p : points) EXPECT_TRUE(!p.pareto || p.median_ms);
  };
  ASSERT_TRUE(session.measure(o));
  ASSERT_EQ(fronts.size(), 2u);
  EXPECT_EQ(fronts[0], 1u);
  EXPECT_EQ(session.summary().measured, 2u);
  EXPECT_EQ(session.summary().unmeasured(), 0u);
  EXPECT_NE(session.csv().find("median_ms"), std::string::npos);
}

TEST(Sweep, ParsesFrontsWithTheDirectionOfY) {
  const auto more = sweep::parse_pareto("latency,+params");
  ASSERT_TRUE(more);
  EXPECT_EQ(more->x, sweep::Metric::Latency);
  EXPECT_EQ(more->y, sweep::Metric::Params);
  EXPECT_TRUE(more->y_more);
  const auto least = sweep::parse_pareto("latency,memory");
  ASSERT_TRUE(least);
  EXPECT_FALSE(least->y_more);
  const auto x_more = sweep::parse_pareto("+latency,params");
  ASSERT_FALSE(x_more);
  EXPECT_NE(x_more.error().front().message.find("only Y may be maximised"), std::string::npos);
  EXPECT_FALSE(sweep::parse_pareto("latency"));
  EXPECT_FALSE(sweep::parse_pareto("latency,+speed"));
}

}  // namespace
}  // namespace convscope
