#pragma once
/// The open design: an engine graph, its analysis (re-run synchronously after
/// every change: well under a millisecond), the undo stack, the file it came
/// from, weights imported with an ONNX model, and the latest profile. Views
/// observe it through signals; every edit goes through an undo command, so an
/// edit made in a test without any view can be undone as well.

#include <QObject>
#include <QString>
#include <QUndoStack>
#include <map>
#include <memory>
#include <optional>

#include "cost/analysis.h"
#include "edit/edit.h"
#include "ir/graph.h"
#include "profile/calibration.h"
#include "profile/latency_model.h"
#include "profile/layers.h"
#include "runtime/weights.h"

namespace convscope::gui {

/// A finished (or cancelled) profile of the document's graph.
struct ProfileData {
  ir::Graph graph;  ///< the graph profiled (results go stale when the document changes)
  cost::Analysis analysis;
  profile::ProfileResult result;
  profile::ProfileSummary summary;
  profile::Calibration calibration;
  std::optional<profile::LatencyModel> model;  ///< what predicted the summary's predicted_ns
  /// Non-empty when a step beat the calibrated peak and the ceilings were measured again (why).
  QString recalibrated;
};

class Document : public QObject {
  Q_OBJECT

 public:
  explicit Document(QObject* parent = nullptr);
  ~Document() override;

  [[nodiscard]] const ir::Graph& graph() const { return graph_; }
  [[nodiscard]] const cost::Analysis& analysis() const { return analysis_; }
  [[nodiscard]] QUndoStack* undoStack() { return &undo_; }
  [[nodiscard]] QString path() const { return path_; }
  /// Name for titles: the file name, or the graph's name when unsaved.
  [[nodiscard]] QString displayName() const;
  [[nodiscard]] bool isModified() const { return !undo_.isClean(); }
  [[nodiscard]] const std::map<std::string, runtime::OpWeights>& importedWeights() const { return weights_; }

  /// How costs are counted (convention, memory view): a view setting, not part
  /// of the graph, so not undoable and not saved in the file.
  [[nodiscard]] const cost::AnalysisOptions& analysisOptions() const { return options_; }
  void setAnalysisOptions(const cost::AnalysisOptions& options);

  /// Replaces the document (clears undo history). `path` empty = untitled.
  void reset(ir::Graph graph, const QString& path = {}, std::map<std::string, runtime::OpWeights> weights = {});
  /// Opens a graph file (.json) or an ONNX model (.onnx; then the document is
  /// untitled, so Save asks where). On failure the document is untouched and the
  /// loader's message, prefixed with the file name, is returned.
  Result<bool> open(const QString& path);
  /// Saves atomically to `path` (the document's own path when empty) and marks clean.
  Result<bool> save(const QString& path = {});

  // --- Edits (each one undo step; refused edits return the reason and change nothing).
  /// Applies `next` as one undo step named `text`. Steps with the same
  /// `merge_key` (non-empty) directly after each other merge into one.
  void apply(const QString& text, ir::Graph next, const QString& merge_key = {});
  Result<std::string> addBlock(const std::string& kind, std::optional<edit::Pos> pos);
  /// Inserts a block into the edge feeding input `slot` of `to`, one rank below its
  /// input, pushing the blocks downstream along (layout.h, make_room). A kind with
  /// an output width takes the edge's channel count; `note` then says so.
  Result<std::string> spliceBlock(const std::string& kind, const std::string& to, std::size_t slot,
                                  std::optional<edit::Pos> pos, QString* note = nullptr);
  Result<bool> connectBlocks(const std::string& from, const std::string& to, std::size_t slot);
  Result<bool> disconnect(const std::string& to, std::size_t slot);
  void removeBlocks(const std::vector<std::string>& ids);
  Result<bool> setParam(const std::string& id, const std::string& name, const std::optional<ir::ParamValue>& value);
  Result<bool> renameBlock(const std::string& id, const std::string& new_id);
  void setWidthRule(const std::string& id, ir::WidthRule rule);
  void moveBlocks(const std::map<std::string, edit::Pos, std::less<>>& positions);
  std::vector<std::string> pasteBlocks(const ir::Graph& part, edit::Pos offset);
  void setAlpha(double alpha);
  void setResolution(std::optional<std::int64_t> resolution);
  /// Places every block with the layered layout (one undo step).
  void autoLayout();
  /// Width / height of the canvas the layout should fill (long networks wrap into
  /// columns); the canvas view keeps it current.
  void setLayoutAspect(double aspect) { layout_aspect_ = aspect; }

  // --- Selection (not part of the document's data; shared by canvas, inspector and table).
  [[nodiscard]] const std::vector<std::string>& selection() const { return selection_; }
  void select(std::vector<std::string> ids);

  // --- Profile and calibration.
  [[nodiscard]] const ProfileData* profile() const { return profile_.get(); }
  /// True when the profile was taken of exactly the current graph.
  [[nodiscard]] bool profileCurrent() const;
  void setProfile(std::shared_ptr<const ProfileData> data);
  [[nodiscard]] const std::optional<profile::Calibration>& calibration() const { return calibration_; }
  void setCalibration(const profile::Calibration& cal);
  /// The latency model that predicts this machine's latency (none until loaded or calibrated).
  [[nodiscard]] const std::optional<profile::LatencyModel>& latencyModel() const { return model_; }
  void setLatencyModel(const profile::LatencyModel& model);
  /// The latency model's prediction per analysis op (empty without a model or
  /// for a graph with problems): a plan step's time sits on its first op, as a
  /// profile's measured time does; the step's other ops get 0.
  [[nodiscard]] const std::vector<double>& predictedOpsNs() const { return predicted_ns_; }
  /// Predicted latency of `node`'s steps, or of the whole network (node = -1,
  /// with the model's network factor); 0 without a prediction.
  [[nodiscard]] double predictedNs(int node = -1) const;
  /// Steps predicted outside the model's calibrated shapes.
  [[nodiscard]] int extrapolatedSteps() const { return extrapolated_; }
  /// Which bottlenecks the prediction (and a profile run) fuses: the latency model's choice.
  [[nodiscard]] const std::string& fusionSummary() const { return fusion_; }
  /// The roofline bound per analysis op (empty until calibrated): a floor, not a prediction.
  [[nodiscard]] const std::vector<double>& boundOpsNs() const { return bound_ns_; }
  [[nodiscard]] double boundNs(int node = -1) const;
  /// The block whose step runs all of `node`'s ops (a batch norm or activation
  /// block fused into the convolution before it, a block inside another's fused
  /// bottleneck), or -1 when `node` has a step of its own or nothing was scheduled.
  [[nodiscard]] int stepHost(int node) const;

  /// Called by undo commands: installs a graph and re-analyses.
  void installGraph(const ir::Graph& graph);

 signals:
  /// The graph (and its analysis) changed.
  void changed();
  void selectionChanged();
  void profileChanged();
  void pathChanged();
  /// Another design replaced this one (open, new, preset, recovery).
  void replaced();
  /// The counting convention or memory view changed.
  void analysisOptionsChanged();

 private:
  void reanalyze();
  ir::Graph graph_;
  cost::AnalysisOptions options_;
  cost::Analysis analysis_;
  QUndoStack undo_;
  QString path_;
  std::map<std::string, runtime::OpWeights> weights_;
  std::vector<std::string> selection_;
  double layout_aspect_ = 1.6;
  std::shared_ptr<const ProfileData> profile_;
  std::optional<profile::Calibration> calibration_;
  std::optional<profile::LatencyModel> model_;
  std::vector<double> predicted_ns_, bound_ns_;
  double predicted_total_ns_ = 0;
  std::vector<int> step_head_;  ///< per analysis op: the first op of the step that runs it (-1: not scheduled)
  int extrapolated_ = 0;
  std::string fusion_;
  void predict();
};

/// "blocks[3].stride: must be >= 1" lines of a Diagnostics, one per line.
QString describe(const Diagnostics& d);

}  // namespace convscope::gui
