// The canvas: the scene that mirrors a Document (items kept in sync, cost colours,
// selection both ways, drop and connect) and the view (zoom, pan, start view, drops).
// The items themselves are in canvas_items.cpp.
#include "canvas.h"

#include <QGraphicsSceneMouseEvent>
#include <QKeyEvent>
#include <QMimeData>
#include <QPainter>
#include <QResizeEvent>
#include <QScrollBar>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <set>

#include "blocks/registry.h"
#include "io/report.h"
#include "layout.h"
#include "qt_strings.h"

namespace convscope::gui {

// ---------------------------------------------------------------- CanvasScene

CanvasScene::CanvasScene(Document* doc, QObject* parent) : QGraphicsScene(parent), doc_(doc) {
  setItemIndexMethod(NoIndex);
  connect(doc_, &Document::changed, this, &CanvasScene::sync);
  connect(doc_, &Document::profileChanged, this, [this] {
    if (colour_ == CostColour::Latency) sync();
  });
  connect(doc_, &Document::selectionChanged, this, &CanvasScene::syncSelectionFromDocument);
  connect(this, &QGraphicsScene::selectionChanged, this, &CanvasScene::syncSelectionToDocument);
  sync();
}

CanvasScene::~CanvasScene() {
  // Removing the items changes the selection: that must not reach the document any more.
  syncing_ = true;
  disconnect(this, &QGraphicsScene::selectionChanged, this, nullptr);
  clear();
}

NodeItem* CanvasScene::nodeItem(const std::string& id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

std::vector<EdgeItem*> CanvasScene::edgeItems() const { return edges_; }

void CanvasScene::setCostColour(CostColour c) {
  colour_ = c;
  recomputeShares();
  for (auto& [id, item] : nodes_) item->update();
}

double CanvasScene::costShare(int node) const {
  return node >= 0 && static_cast<std::size_t>(node) < shares_.size() ? shares_[static_cast<std::size_t>(node)] : 0.0;
}

void CanvasScene::recomputeShares() {
  const auto& a = doc_->analysis();
  std::vector<double> v(a.nodes.size(), 0.0);
  const ProfileData* prof = doc_->profileCurrent() ? doc_->profile() : nullptr;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto& rec = a.nodes[i];
    if (rec.status != cost::NodeStatus::Ok) continue;
    switch (colour_) {
      case CostColour::MAdds:
        v[i] = static_cast<double>(rec.totals.madds);
        break;
      case CostColour::Params:
        v[i] = static_cast<double>(rec.totals.params);
        break;
      case CostColour::Latency:
        // Measured when profiled, else predicted, else the roofline bound.
        if (prof && i < prof->summary.blocks.size())
          v[i] = prof->summary.blocks[i].median_ns;
        else if (doc_->latencyModel())
          v[i] = doc_->predictedNs(static_cast<int>(i));
        else
          v[i] = doc_->boundNs(static_cast<int>(i));
        break;
      case CostColour::None:
        break;
    }
  }
  const double mx = v.empty() ? 0.0 : *std::max_element(v.begin(), v.end());
  for (auto& x : v) x = mx > 0 ? x / mx : 0.0;
  shares_ = std::move(v);
}

void CanvasScene::sync() {
  syncing_ = true;
  const auto& g = doc_->graph();
  // Edges first (they are rebuilt below), then items of removed blocks, then every
  // item's index, so nothing reads a stale index while positions change.
  drop_target_ = nullptr;
  for (auto* e : edges_) delete e;
  edges_.clear();
  std::set<std::string> present;
  for (const auto& n : g.nodes) present.insert(n.id);
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (!present.count(it->first)) {
      delete it->second;
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  QRectF placed = itemsBoundingRect();
  std::vector<NodeItem*> items(g.nodes.size());
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    NodeItem*& item = nodes_[g.nodes[i].id];
    if (!item) {
      item = new NodeItem(this, g.nodes[i].id);
      item->setIndex(static_cast<int>(i));
      addItem(item);
    }
    item->setIndex(static_cast<int>(i));
    items[i] = item;
  }
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const auto& n = g.nodes[i];
    const QPointF pos = n.pos ? QPointF((*n.pos)[0], (*n.pos)[1]) : QPointF(placed.left(), placed.bottom() + 40);
    if (!n.pos) placed.setBottom(placed.bottom() + kNodeHeight + 40);
    if (items[i]->pos() != pos) items[i]->setPos(pos);
  }
  recomputeShares();
  for (auto& [id, item] : nodes_) item->refresh();
  rebuildEdges();
  syncing_ = false;
  syncSelectionFromDocument();
}

void CanvasScene::rebuildEdges() {
  drop_target_ = nullptr;
  for (auto* e : edges_) delete e;
  edges_.clear();
  for (const auto& n : doc_->graph().nodes) {
    NodeItem* to = nodeItem(n.id);
    for (std::size_t s = 0; s < n.inputs.size(); ++s) {
      NodeItem* from = nodeItem(n.inputs[s]);
      if (!from || !to) continue;
      auto* e = new EdgeItem(n.inputs[s], n.id, s);
      e->route(from->outputPort(), to->inputPort(s));
      addItem(e);
      edges_.push_back(e);
    }
  }
}

void CanvasScene::routeEdgesOf(const std::string& id) {
  for (auto* e : edges_) {
    if (e->from() != id && e->to() != id) continue;
    NodeItem* from = nodeItem(e->from());
    NodeItem* to = nodeItem(e->to());
    if (from && to) e->route(from->outputPort(), to->inputPort(e->slot()));
  }
}

void CanvasScene::syncSelectionFromDocument() {
  if (syncing_) return;
  syncing_ = true;
  const auto& sel = doc_->selection();
  const std::set<std::string> want(sel.begin(), sel.end());
  for (auto& [id, item] : nodes_) item->setSelected(want.count(id) > 0);
  syncing_ = false;
}

void CanvasScene::syncSelectionToDocument() {
  if (syncing_) return;
  std::vector<std::string> ids;
  for (const auto& n : doc_->graph().nodes)  // graph order, stable for tests and the inspector
    if (NodeItem* item = nodeItem(n.id); item && item->isSelected()) ids.push_back(n.id);
  syncing_ = true;
  doc_->select(ids);
  syncing_ = false;
}

EdgeItem* CanvasScene::edgeAt(QPointF scene_pos) const {
  EdgeItem* best = nullptr;
  const QRectF probe(scene_pos - QPointF(kEdgeHit, kEdgeHit), QSizeF(2 * kEdgeHit, 2 * kEdgeHit));
  for (QGraphicsItem* item : items(probe, Qt::IntersectsItemShape)) {
    if (dynamic_cast<NodeItem*>(item)) return nullptr;  // over a block, not an edge
    if (auto* e = dynamic_cast<EdgeItem*>(item); e && !best) best = e;
  }
  return best;
}

void CanvasScene::setDropTarget(EdgeItem* edge) {
  if (drop_target_ == edge) return;
  if (drop_target_) drop_target_->setHighlighted(false);
  drop_target_ = edge;
  if (drop_target_) drop_target_->setHighlighted(true);
}

Result<std::string> CanvasScene::dropKind(const std::string& kind, QPointF scene_pos) {
  setDropTarget(nullptr);
  const edit::Pos pos{std::round(scene_pos.x() - kNodeWidth / 2), std::round(scene_pos.y() - kNodeHeight / 2)};
  Result<std::string> id;
  if (EdgeItem* e = edgeAt(scene_pos)) {
    const std::string to = e->to();
    const std::size_t slot = e->slot();
    QString note;
    id = doc_->spliceBlock(kind, to, slot, pos, &note);
    if (id)
      emit message(tr("Inserted %1 into the edge into %2").arg(qs(*id), qs(to)) +
                   (note.isEmpty() ? QString() : " (" + note + ")"));
  } else {
    id = doc_->addBlock(kind, pos);
    if (id) emit message(tr("Added %1").arg(qs(*id)));
  }
  if (id)
    doc_->select({*id});
  else
    emit message(tr("Cannot add the block: %1").arg(describe(id.error())));
  return id;
}

void CanvasScene::deleteSelection() {
  ir::Graph g = doc_->graph();
  std::vector<std::pair<std::string, std::size_t>> cut;
  for (auto* e : edges_)
    if (e->isSelected()) cut.emplace_back(e->to(), e->slot());
  // Highest slot first so earlier slots keep their numbers.
  std::sort(cut.begin(), cut.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  for (const auto& [to, slot] : cut) (void)edit::disconnect(g, to, slot);
  std::vector<std::string> ids = doc_->selection();
  edit::remove_blocks(g, ids);
  if (ids.empty() && cut.empty()) return;
  QString text = ids.size() == 1 ? tr("Delete %1").arg(qs(ids[0])) : tr("Delete %1 blocks").arg(ids.size());
  if (ids.empty()) text = cut.size() == 1 ? tr("Delete connection") : tr("Delete %1 connections").arg(cut.size());
  doc_->apply(text, std::move(g));
}

void CanvasScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
  if (event->button() == Qt::LeftButton) {
    for (QGraphicsItem* item : items(event->scenePos())) {
      auto* node = dynamic_cast<NodeItem*>(item);
      if (!node) continue;
      if (auto port = node->portAt(event->scenePos())) {
        wire_node_ = node->id();
        wire_from_output_ = port->output;
        wire_slot_ = port->slot;
        const QPointF start = port->output ? node->outputPort() : node->inputPort(port->slot);
        wire_ = addLine(QLineF(start, event->scenePos()), QPen(QColor(0x19, 0x76, 0xd2), 2, Qt::DashLine));
        wire_->setZValue(10);
        event->accept();
        return;
      }
      break;
    }
  }
  QGraphicsScene::mousePressEvent(event);
}

void CanvasScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event) {
  if (wire_) {
    wire_->setLine(QLineF(wire_->line().p1(), event->scenePos()));
    return;
  }
  QGraphicsScene::mouseMoveEvent(event);
}

void CanvasScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event) {
  if (wire_) {
    delete wire_;
    wire_ = nullptr;
    NodeItem* target = nullptr;
    for (QGraphicsItem* item : items(event->scenePos()))
      if (auto* n = dynamic_cast<NodeItem*>(item); n && n->id() != wire_node_) {
        target = n;
        break;
      }
    if (!target) {
      // Hovering near a port counts too (ports stick out of the block).
      for (auto& [id, n] : nodes_)
        if (id != wire_node_ && n->portAt(event->scenePos())) target = n;
    }
    Result<bool> ok = true;
    if (wire_from_output_ && target) {
      auto port = target->portAt(event->scenePos());
      const std::size_t slot = port && !port->output ? port->slot : edit::default_slot(doc_->graph(), target->id());
      ok = doc_->connectBlocks(wire_node_, target->id(), slot);
    } else if (!wire_from_output_ && target) {
      ok = doc_->connectBlocks(target->id(), wire_node_, wire_slot_);
    } else if (!wire_from_output_) {
      // An input port dragged into empty space: let go of that input.
      const int i = doc_->graph().find(wire_node_);
      if (i >= 0 && wire_slot_ < doc_->graph().nodes[static_cast<std::size_t>(i)].inputs.size())
        ok = doc_->disconnect(wire_node_, wire_slot_);
    }
    if (!ok) emit message(tr("Connection refused: %1").arg(qs(ok.error().front().message)));
    event->accept();
    return;
  }
  QGraphicsScene::mouseReleaseEvent(event);
  // Commit moved blocks as one undo step.
  std::map<std::string, edit::Pos, std::less<>> moved;
  for (const auto& n : doc_->graph().nodes) {
    NodeItem* item = nodeItem(n.id);
    if (!item) continue;
    const QPointF p = item->pos();
    if (!n.pos || (*n.pos)[0] != p.x() || (*n.pos)[1] != p.y()) moved[n.id] = {std::round(p.x()), std::round(p.y())};
  }
  if (!moved.empty()) doc_->moveBlocks(moved);
}

// ---------------------------------------------------------------- CanvasView

CanvasView::CanvasView(CanvasScene* scene, QWidget* parent) : QGraphicsView(scene, parent), scene_(scene) {
  setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
  setDragMode(RubberBandDrag);
  setRubberBandSelectionMode(Qt::IntersectsItemShape);
  setTransformationAnchor(AnchorUnderMouse);
  setViewportUpdateMode(SmartViewportUpdate);
  setAcceptDrops(true);
  setFocusPolicy(Qt::StrongFocus);
  setObjectName("canvas");
}

void CanvasView::fitAll() {
  QRectF r;
  for (QGraphicsItem* item : scene_->items())
    if (dynamic_cast<NodeItem*>(item)) r |= item->sceneBoundingRect();
  if (r.isEmpty()) return;
  r.adjust(-30, -30, 30, 30);
  fitInView(r, Qt::KeepAspectRatio);
  // Never blow a tiny graph up past 1.5x, nor shrink below readable outlines.
  if (zoom() > 1.5) zoomBy(1.5 / zoom());
  centerOn(r.center());
}

void CanvasView::showStart() {
  fitAll();
  // Every block when the names stay readable (the overview names are 10 px and more
  // from 0.4); else the top of the graph at full detail.
  constexpr double kOverviewReadable = 0.4;
  if (zoom() >= kOverviewReadable) return;
  zoomBy(kDetailZoom / zoom());
  QRectF r;
  for (QGraphicsItem* item : scene_->items())
    if (dynamic_cast<NodeItem*>(item)) r |= item->sceneBoundingRect();
  // Where the network starts: the top of its first (left) column.
  const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
  const double x = visible.width() >= r.width() ? r.center().x() : r.left() - 30 + visible.width() / 2;
  centerOn(QPointF(x, r.top() - 30 + visible.height() / 2));
}

void CanvasView::zoomBy(double factor) {
  const double z = zoom() * factor;
  if (z < 0.05 || z > 4.0) return;
  scale(factor, factor);
}

void CanvasView::wheelEvent(QWheelEvent* event) {
  const double steps = event->angleDelta().y() / 120.0;
  zoomBy(std::pow(1.15, steps));
  event->accept();
}

void CanvasView::mousePressEvent(QMouseEvent* event) {
  if (event->button() == Qt::MiddleButton) {
    // Middle button pans: pretend it is a left-button hand drag.
    setDragMode(ScrollHandDrag);
    QMouseEvent fake(event->type(), event->position(), event->globalPosition(), Qt::LeftButton, Qt::LeftButton,
                     event->modifiers());
    QGraphicsView::mousePressEvent(&fake);
    return;
  }
  QGraphicsView::mousePressEvent(event);
}

void CanvasView::mouseReleaseEvent(QMouseEvent* event) {
  if (event->button() == Qt::MiddleButton) {
    QMouseEvent fake(event->type(), event->position(), event->globalPosition(), Qt::LeftButton, Qt::NoButton,
                     event->modifiers());
    QGraphicsView::mouseReleaseEvent(&fake);
    setDragMode(space_held_ ? ScrollHandDrag : RubberBandDrag);
    return;
  }
  QGraphicsView::mouseReleaseEvent(event);
}

void CanvasView::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    space_held_ = true;
    setDragMode(ScrollHandDrag);
    return;
  }
  QGraphicsView::keyPressEvent(event);
}

void CanvasView::keyReleaseEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
    space_held_ = false;
    setDragMode(RubberBandDrag);
    return;
  }
  QGraphicsView::keyReleaseEvent(event);
}

void CanvasView::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasFormat(kKindMime))
    event->acceptProposedAction();
  else
    event->ignore();
}

void CanvasView::dragMoveEvent(QDragMoveEvent* event) {
  if (!event->mimeData()->hasFormat(kKindMime)) {
    event->ignore();
    return;
  }
  scene_->setDropTarget(scene_->edgeAt(mapToScene(event->position().toPoint())));
  event->acceptProposedAction();
}

void CanvasView::dragLeaveEvent(QDragLeaveEvent* event) {
  scene_->setDropTarget(nullptr);
  QGraphicsView::dragLeaveEvent(event);
}

void CanvasView::dropEvent(QDropEvent* event) {
  if (!event->mimeData()->hasFormat(kKindMime)) {
    event->ignore();
    return;
  }
  const std::string kind = event->mimeData()->data(kKindMime).toStdString();
  (void)scene_->dropKind(kind, mapToScene(event->position().toPoint()));
  event->acceptProposedAction();
  setFocus();
}

void CanvasView::resizeEvent(QResizeEvent* event) {
  QGraphicsView::resizeEvent(event);
  // The next automatic layout fills this shape (long networks wrap into columns).
  const QSize v = viewport()->size();
  if (v.width() > 50 && v.height() > 50)
    scene_->document()->setLayoutAspect(static_cast<double>(v.width()) / v.height());
}

void CanvasView::drawBackground(QPainter* painter, const QRectF& rect) {
  painter->fillRect(rect, QColor(0xfa, 0xfa, 0xfa));
  if (zoom() < 0.35) return;
  constexpr double kGrid = 40;
  painter->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 0));
  const double left = std::floor(rect.left() / kGrid) * kGrid;
  const double top = std::floor(rect.top() / kGrid) * kGrid;
  QVector<QPointF> dots;
  for (double x = left; x < rect.right(); x += kGrid)
    for (double y = top; y < rect.bottom(); y += kGrid) dots.append(QPointF(x, y));
  painter->drawPoints(dots.data(), static_cast<int>(dots.size()));
}

}  // namespace convscope::gui
