#pragma once
/// The canvas: a QGraphicsScene that observes a Document and draws its blocks
/// (with ports, output shape and cost share) and edges, and a view with zoom,
/// pan, fit, and drops from the palette (onto empty space, or onto an edge to
/// splice the block in). Items hold only a block id; everything they draw is
/// read from the document, and every edit goes through the document's commands.

#include <QGraphicsItem>
#include <QGraphicsScene>
#include <QGraphicsView>
#include <QPointer>
#include <unordered_map>

#include "document.h"

namespace convscope::gui {

class NodeItem;
class EdgeItem;

/// What node colours show.
enum class CostColour { MAdds, Params, Latency, None };

/// The colour of a block category (canvas strip, palette icon).
QColor categoryColour(blocks::Category c);

/// MIME type of a palette drag: the block kind's registry name as UTF-8.
inline constexpr const char* kKindMime = "application/x-convscope-kind";
/// How close (scene units) the pointer must be to an edge to pick it.
inline constexpr double kEdgeHit = 7.0;
/// Below this zoom a block shows only its name (see NodeItem::paint); the start view zooms to it.
inline constexpr double kDetailZoom = 0.75;

class CanvasScene : public QGraphicsScene {
  Q_OBJECT

 public:
  explicit CanvasScene(Document* doc, QObject* parent = nullptr);
  ~CanvasScene() override;

  [[nodiscard]] Document* document() const { return doc_; }
  [[nodiscard]] NodeItem* nodeItem(const std::string& id) const;
  [[nodiscard]] std::vector<EdgeItem*> edgeItems() const;
  [[nodiscard]] CostColour costColour() const { return colour_; }
  void setCostColour(CostColour c);
  /// The node's share of the largest block value under the current colouring (0..1).
  [[nodiscard]] double costShare(int node) const;

  /// Drops a block kind at `scene_pos`: spliced into the edge under it, else added there.
  Result<std::string> dropKind(const std::string& kind, QPointF scene_pos);
  /// The edge passing within a few pixels of `scene_pos`, or nullptr.
  [[nodiscard]] EdgeItem* edgeAt(QPointF scene_pos) const;
  /// Highlights the edge a drop would splice into (nullptr: none).
  void setDropTarget(EdgeItem* edge);

  /// Deletes the selected blocks and connections (one undo step each kind).
  void deleteSelection();

 signals:
  /// A sentence for the status bar (refused connections, drops, ...).
  void message(const QString& text);

 protected:
  void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
  void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
  void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;

 private:
  void sync();
  void syncSelectionFromDocument();
  void syncSelectionToDocument();
  void rebuildEdges();
  void recomputeShares();
  friend class NodeItem;
  /// Re-routes the edges touching block `id` (called while it moves).
  void routeEdgesOf(const std::string& id);

  Document* doc_;
  std::unordered_map<std::string, NodeItem*> nodes_;
  std::vector<EdgeItem*> edges_;
  CostColour colour_ = CostColour::MAdds;
  std::vector<double> shares_;
  bool syncing_ = false;
  // A connection being dragged out of a port.
  QGraphicsLineItem* wire_ = nullptr;
  std::string wire_node_;
  bool wire_from_output_ = true;
  std::size_t wire_slot_ = 0;
  EdgeItem* drop_target_ = nullptr;
};

class CanvasView : public QGraphicsView {
  Q_OBJECT

 public:
  explicit CanvasView(CanvasScene* scene, QWidget* parent = nullptr);
  /// Zooms to show every block.
  void fitAll();
  /// The view for a freshly opened design: every block if that stays readable,
  /// else readable zoom at the graph's inputs (F shows everything).
  void showStart();
  void zoomBy(double factor);
  [[nodiscard]] double zoom() const { return transform().m11(); }

 protected:
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dragMoveEvent(QDragMoveEvent* event) override;
  void dragLeaveEvent(QDragLeaveEvent* event) override;
  void dropEvent(QDropEvent* event) override;
  void drawBackground(QPainter* painter, const QRectF& rect) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  CanvasScene* scene_;
  bool space_held_ = false;
};

/// One block. Holds its id only; reads everything else from the document.
class NodeItem : public QGraphicsItem {
 public:
  NodeItem(CanvasScene* scene, std::string id);
  [[nodiscard]] const std::string& id() const { return id_; }
  void setId(std::string id) { id_ = std::move(id); }
  [[nodiscard]] QRectF boundingRect() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

  /// Number of input ports drawn (the inputs it has, plus a free one when it takes more).
  [[nodiscard]] std::size_t inputPorts() const;
  [[nodiscard]] QPointF inputPort(std::size_t slot) const;  ///< scene position
  [[nodiscard]] QPointF outputPort() const;                 ///< scene position
  struct Port {
    bool output = false;
    std::size_t slot = 0;
  };
  /// The port within a few pixels of `scene_pos`, if any.
  [[nodiscard]] std::optional<Port> portAt(QPointF scene_pos) const;
  /// Refreshes the tooltip (problems, shape, costs) after a document change.
  void refresh();
  /// The block's index in the document's graph (set by the scene on every sync).
  void setIndex(int index) { index_ = index; }
  [[nodiscard]] int index() const { return index_; }

 protected:
  QVariant itemChange(GraphicsItemChange change, const QVariant& value) override;

 private:
  [[nodiscard]] const ir::Node& node() const;
  [[nodiscard]] const blocks::BlockInfo* info() const;
  /// The name alone, large: the view is zoomed out below the detail level.
  void paintOverview(QPainter* p, double lod) const;
  void paintPorts(QPainter* p) const;
  CanvasScene* scene_;
  std::string id_;
  int index_ = -1;
};

/// One connection: the output of `from` into input `slot` of `to`.
class EdgeItem : public QGraphicsPathItem {
 public:
  EdgeItem(std::string from, std::string to, std::size_t slot);
  [[nodiscard]] const std::string& from() const { return from_; }
  [[nodiscard]] const std::string& to() const { return to_; }
  [[nodiscard]] std::size_t slot() const { return slot_; }
  void route(QPointF a, QPointF b);
  void setHighlighted(bool on);
  [[nodiscard]] QPainterPath shape() const override;
  void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

 private:
  std::string from_, to_;
  std::size_t slot_;
  bool highlighted_ = false;
};

}  // namespace convscope::gui
