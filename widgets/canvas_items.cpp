// The canvas's items: a block (NodeItem: name, kind, output shape and cost, coloured
// by its share of the chosen cost, ports; a name alone below the detail zoom) and a
// connection (EdgeItem: routed between ports, highlighted when selected).
#include <QPainter>
#include <QRegularExpression>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

#include "blocks/registry.h"
#include "canvas.h"
#include "io/report.h"
#include "layout.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

constexpr double kPortRadius = 5.0;
constexpr double kPortHit = 9.0;

QString shape_text(const ir::Shape& s) { return QStringLiteral("%1×%2×%3").arg(s.h).arg(s.w).arg(s.c); }

/// White to deep orange as the share grows (square root: small shares stay visible).
QColor heat(double share) {
  const double t = std::sqrt(std::clamp(share, 0.0, 1.0));
  const QColor hot(0xff, 0x70, 0x43);
  auto mix = [&](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
  return QColor(mix(255, hot.red()), mix(255, hot.green()), mix(255, hot.blue()));
}

}  // namespace

QColor categoryColour(blocks::Category c) {
  switch (c) {
    case blocks::Category::Input:
      return QColor(0x2e, 0x7d, 0x32);
    case blocks::Category::Block:
      return QColor(0x15, 0x65, 0xc0);
    case blocks::Category::Layer:
      return QColor(0x75, 0x75, 0x75);
  }
  return Qt::gray;
}

// ---------------------------------------------------------------- NodeItem

NodeItem::NodeItem(CanvasScene* scene, std::string id) : scene_(scene), id_(std::move(id)) {
  setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
  setAcceptHoverEvents(true);
  setCacheMode(DeviceCoordinateCache);
}

const ir::Node& NodeItem::node() const { return scene_->document()->graph().nodes[static_cast<std::size_t>(index_)]; }

const blocks::BlockInfo* NodeItem::info() const {
  const auto& rec = scene_->document()->analysis().nodes[static_cast<std::size_t>(index_)];
  if (rec.kind) return &rec.kind->info();
  const auto* k = blocks::Registry::builtin().find(node().kind);
  return k ? &k->info() : nullptr;
}

QRectF NodeItem::boundingRect() const {
  return QRectF(-kPortRadius - 2, -kPortRadius - 2, kNodeWidth + 2 * kPortRadius + 4,
                kNodeHeight + 2 * kPortRadius + 4);
}

std::size_t NodeItem::inputPorts() const {
  const auto* i = info();
  const std::size_t have = node().inputs.size();
  if (!i) return have;
  if (i->max_inputs == blocks::kVariadic) return std::max(have + 1, i->min_inputs);
  return std::max(have, i->max_inputs);
}

QPointF NodeItem::inputPort(std::size_t slot) const {
  const double n = static_cast<double>(inputPorts());
  return mapToScene(QPointF(kNodeWidth * (static_cast<double>(slot) + 1) / (n + 1), 0));
}

QPointF NodeItem::outputPort() const { return mapToScene(QPointF(kNodeWidth / 2, kNodeHeight)); }

std::optional<NodeItem::Port> NodeItem::portAt(QPointF scene_pos) const {
  auto near = [&](QPointF p) { return QLineF(p, scene_pos).length() <= kPortHit; };
  if (near(outputPort())) return Port{true, 0};
  for (std::size_t s = 0; s < inputPorts(); ++s)
    if (near(inputPort(s))) return Port{false, s};
  return std::nullopt;
}

void NodeItem::refresh() {
  const auto& a = scene_->document()->analysis();
  const auto& rec = a.nodes[static_cast<std::size_t>(index_)];
  const auto* i = info();
  QString tip = QStringLiteral("<b>%1</b> — %2").arg(qs(id_).toHtmlEscaped(), i ? qs(i->title) : qs(node().kind));
  if (i) tip += "<br><i>" + qs(i->summary).toHtmlEscaped() + "</i>";
  if (rec.status == cost::NodeStatus::Ok) {
    tip += QStringLiteral("<br>output %1<br>%2 params · %3 MAdds")
               .arg(shape_text(rec.out), qs(io::with_commas(rec.totals.params)), qs(io::with_commas(rec.totals.madds)));
  } else if (rec.status == cost::NodeStatus::Invalid) {
    tip += "<br><span style='color:#c62828'><b>invalid:</b><br>" +
           describe(rec.problems).toHtmlEscaped().replace('\n', "<br>") + "</span>";
  } else {
    tip += "<br><span style='color:#757575'>no shape: " + qs(rec.unresolved_because).toHtmlEscaped() + "</span>";
  }
  setToolTip(tip);
  update();
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  const auto& a = scene_->document()->analysis();
  const auto& rec = a.nodes[static_cast<std::size_t>(index_)];
  const auto* i = info();
  const QRectF r(0, 0, kNodeWidth, kNodeHeight);
  const bool selected = option->state & QStyle::State_Selected;

  QColor fill = heat(scene_->costShare(index_));
  QPen border(QColor(0x61, 0x61, 0x61), 1.2);
  if (rec.status == cost::NodeStatus::Invalid) {
    fill = QColor(0xff, 0xcd, 0xd2);
    border = QPen(QColor(0xc6, 0x28, 0x28), 2.0);
  } else if (rec.status == cost::NodeStatus::Unresolved) {
    fill = QColor(0xee, 0xee, 0xee);
    border = QPen(QColor(0x9e, 0x9e, 0x9e), 1.2, Qt::DashLine);
  }
  if (selected) border = QPen(QColor(0x19, 0x76, 0xd2), 3.0);
  p->setPen(border);
  p->setBrush(fill);
  p->drawRoundedRect(r, 7, 7);
  // Category strip on the left.
  if (i) {
    p->setPen(Qt::NoPen);
    p->setBrush(categoryColour(i->category));
    p->drawRoundedRect(QRectF(1.5, 1.5, 6, kNodeHeight - 3), 3, 3);
  }

  // Level of detail: zoomed out so far that the three lines would be under about
  // 8 px, the block shows its name alone, as large as the box allows (F and a long
  // network's overview stay readable); smaller still, just the box.
  const double lod = option->levelOfDetailFromTransform(p->worldTransform());
  if (lod < kDetailZoom) {
    paintOverview(p, lod);
    paintPorts(p);
    return;
  }

  QFont f = p->font();
  f.setPointSizeF(9.5);
  f.setBold(true);
  p->setFont(f);
  p->setPen(Qt::black);
  const QFontMetricsF fm(f);
  const QRectF text(13, 4, kNodeWidth - 18, 17);
  p->drawText(text, Qt::AlignLeft | Qt::AlignVCenter, fm.elidedText(qs(id_), Qt::ElideRight, text.width()));
  f.setBold(false);
  f.setPointSizeF(8);
  p->setFont(f);
  const QFontMetricsF fs(f);
  p->setPen(QColor(0x42, 0x42, 0x42));
  const QRectF line2(13, 21, kNodeWidth - 18, 15);
  p->drawText(line2, Qt::AlignLeft | Qt::AlignVCenter,
              fs.elidedText(i ? qs(i->title) : qs(node().kind), Qt::ElideRight, line2.width()));
  QString line3;
  if (rec.status == cost::NodeStatus::Ok) {
    line3 = shape_text(rec.out);
    if (rec.totals.madds > 0) line3 += " · " + qs(io::human(rec.totals.madds)) + " MAdds";
  } else if (rec.status == cost::NodeStatus::Invalid) {
    p->setPen(QColor(0xb7, 0x1c, 0x1c));
    line3 = rec.problems.empty() ? QObject::tr("invalid") : qs(rec.problems.front().message);
  } else {
    line3 = QObject::tr("no shape (upstream)");
  }
  const QRectF l3(13, 38, kNodeWidth - 18, 16);
  p->drawText(l3, Qt::AlignLeft | Qt::AlignVCenter, fs.elidedText(line3, Qt::ElideRight, l3.width()));

  paintPorts(p);
}

void NodeItem::paintOverview(QPainter* p, double lod) const {
  // Pixel height of the name on screen: 12 px, but never more than the box holds.
  const double max_scene = kNodeHeight * 0.42;
  const double scene_px = std::min(12.0 / lod, max_scene);
  if (scene_px * lod < 6.0) return;  // unreadable at any size the box allows
  QFont f = p->font();
  f.setBold(true);
  f.setPixelSize(std::max(1, static_cast<int>(std::lround(scene_px))));
  p->setFont(f);
  p->setPen(Qt::black);
  const QRectF text(12, 2, kNodeWidth - 16, kNodeHeight - 4);
  // Two lines when the name is long, elided after that; full name in the tooltip.
  const QFontMetricsF fm(f);
  const QString name = qs(id_);
  QString shown = name;
  if (fm.horizontalAdvance(name) > text.width() && 2 * fm.lineSpacing() <= text.height()) {
    int cut = static_cast<int>(name.size());
    while (cut > 1 && fm.horizontalAdvance(name.left(cut)) > text.width()) --cut;
    static const QRegularExpression kSeparator(QStringLiteral("[_.\\-]"));  // compiled once, not per paint
    const int at_sep = static_cast<int>(name.left(cut).lastIndexOf(kSeparator));
    if (at_sep > cut / 2) cut = at_sep + 1;
    shown = name.left(cut) + "\n" + fm.elidedText(name.mid(cut), Qt::ElideRight, text.width());
  } else {
    shown = fm.elidedText(name, Qt::ElideRight, text.width());
  }
  p->drawText(text, Qt::AlignLeft | Qt::AlignVCenter, shown);
}

void NodeItem::paintPorts(QPainter* p) const {
  p->setPen(QPen(QColor(0x42, 0x42, 0x42), 1));
  const std::size_t n = inputPorts();
  for (std::size_t s = 0; s < n; ++s) {
    const bool used = s < node().inputs.size();
    p->setBrush(used ? QColor(0x42, 0x42, 0x42) : QColor(Qt::white));
    p->drawEllipse(mapFromScene(inputPort(s)), kPortRadius, kPortRadius);
  }
  p->setBrush(QColor(0x19, 0x76, 0xd2));
  p->drawEllipse(QPointF(kNodeWidth / 2, kNodeHeight), kPortRadius, kPortRadius);
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant& value) {
  if (change == ItemPositionHasChanged) scene_->routeEdgesOf(id_);
  return QGraphicsItem::itemChange(change, value);
}

// ---------------------------------------------------------------- EdgeItem

EdgeItem::EdgeItem(std::string from, std::string to, std::size_t slot)
    : from_(std::move(from)), to_(std::move(to)), slot_(slot) {
  setFlag(ItemIsSelectable);
  setZValue(-1);
  setPen(QPen(QColor(0x78, 0x90, 0x9c), 1.6));
}

void EdgeItem::route(QPointF a, QPointF b) {
  QPainterPath path(a);
  if (b.y() < a.y() + 20 && std::abs(b.x() - a.x()) > kNodeWidth / 2) {
    // Into a block above (a wrapped column's top): out below, up between the columns, in from above.
    const double x = (a.x() + b.x()) / 2, loop = 28;
    path.cubicTo(a + QPointF(0, loop), QPointF(x, a.y() + loop), QPointF(x, a.y()));
    path.lineTo(x, b.y());
    path.cubicTo(QPointF(x, b.y() - loop), b - QPointF(0, loop), b);
  } else {
    const double dy = std::max(40.0, std::abs(b.y() - a.y()) / 2);
    path.cubicTo(a + QPointF(0, dy), b - QPointF(0, dy), b);
  }
  setPath(path);
}

void EdgeItem::setHighlighted(bool on) {
  highlighted_ = on;
  update();
}

QPainterPath EdgeItem::shape() const {
  QPainterPathStroker stroker;
  stroker.setWidth(2 * kEdgeHit);
  return stroker.createStroke(path());
}

void EdgeItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
  QPen pen = this->pen();
  if (option->state & QStyle::State_Selected) pen = QPen(QColor(0x19, 0x76, 0xd2), 3);
  if (highlighted_) pen = QPen(QColor(0xff, 0x6f, 0x00), 4);
  p->setPen(pen);
  p->setBrush(Qt::NoBrush);
  p->drawPath(path());
  // Arrow head at the input port.
  const QPointF tip = path().pointAtPercent(1.0);
  const QPointF back = path().pointAtPercent(0.97);
  QLineF dir(tip, back);
  if (dir.length() > 0) {
    dir.setLength(8);
    QLineF left = dir, right = dir;
    left.setAngle(dir.angle() + 25);
    right.setAngle(dir.angle() - 25);
    p->setBrush(pen.color());
    p->drawPolygon(QPolygonF({tip, left.p2(), right.p2()}));
  }
}

}  // namespace convscope::gui
