#include "palette.h"

#include <QDrag>
#include <QHeaderView>
#include <QLineEdit>
#include <QMimeData>
#include <QPainter>
#include <QRegularExpression>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "blocks/registry.h"
#include "canvas.h"
#include "qt_strings.h"

namespace convscope::gui {
namespace {

/// A tree that starts drags carrying the kind name.
class KindTree : public QTreeWidget {
 public:
  using QTreeWidget::QTreeWidget;

 protected:
  QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override {
    if (items.isEmpty() || items.front()->data(0, Qt::UserRole).toString().isEmpty()) return nullptr;
    auto* mime = new QMimeData;
    mime->setData(kKindMime, items.front()->data(0, Qt::UserRole).toString().toUtf8());
    return mime;
  }
  [[nodiscard]] QStringList mimeTypes() const override { return {kKindMime}; }
};

/// A small glyph per category: a coloured rounded square with the kind's initials.
QIcon kind_icon(const blocks::BlockInfo& info) {
  QPixmap pm(22, 22);
  pm.fill(Qt::transparent);
  QPainter p(&pm);
  p.setRenderHint(QPainter::Antialiasing);
  p.setBrush(categoryColour(info.category));
  p.setPen(Qt::NoPen);
  p.drawRoundedRect(QRectF(1, 1, 20, 20), 4, 4);
  QString initials;
  for (const auto& word : qs(info.title).split(QRegularExpression("[ \\-×x]+"), Qt::SkipEmptyParts))
    if (initials.size() < 2 && word[0].isLetterOrNumber()) initials += word[0].toUpper();
  QFont f = p.font();
  f.setPixelSize(10);
  f.setBold(true);
  p.setFont(f);
  p.setPen(Qt::white);
  p.drawText(QRectF(1, 1, 20, 20), Qt::AlignCenter, initials);
  return QIcon(pm);
}

QString tooltip(const blocks::BlockKind& k) {
  const auto& i = k.info();
  QString t = QStringLiteral("<b>%1</b> <code>%2</code><br>%3")
                  .arg(qs(i.title).toHtmlEscaped(), qs(i.name), qs(i.summary).toHtmlEscaped());
  // The closed form with the kind's defaults on a 56x56x64 input, so the formula reads with real numbers.
  ir::ParamMap params;
  for (const auto& p : i.params)
    if (!p.optional) params[p.name] = p.def;
  if (i.max_inputs > 0) {
    std::vector<ir::Shape> inputs(std::max<std::size_t>(i.min_inputs, 1), ir::Shape{56, 56, 64});
    try {
      const blocks::BlockContext ctx(params, inputs);
      blocks::Checks checks;
      k.check(ctx, checks);
      if (checks.items().empty()) {
        const auto f = k.formula(ctx);
        t += "<br><br>MAdds = <code>" + qs(f.symbolic).toHtmlEscaped() + "</code>";
        t += "<br><small>" + qs(f.legend).toHtmlEscaped() + "</small>";
      }
    } catch (...) {
      // A kind whose defaults do not fit this sample input simply shows no formula.
    }
  }
  if (!i.reference.empty()) t += "<br><i>" + qs(i.reference).toHtmlEscaped() + "</i>";
  if (!i.params.empty()) {
    t += "<br><br>";
    QStringList ps;
    for (const auto& p : i.params)
      ps << "<code>" + qs(p.name) + "</code> " + qs(ir::param_range_str(p)).toHtmlEscaped();
    t += ps.join("<br>");
  }
  return t;
}

}  // namespace

Palette::Palette(QWidget* parent) : QWidget(parent), filter_(new QLineEdit), tree_(new KindTree) {
  setObjectName("palette");
  filter_->setPlaceholderText(tr("Filter blocks…"));
  filter_->setClearButtonEnabled(true);
  filter_->setObjectName("paletteFilter");
  tree_->setHeaderHidden(true);
  tree_->setDragEnabled(true);
  tree_->setDragDropMode(QAbstractItemView::DragOnly);
  tree_->setRootIsDecorated(false);
  tree_->setIconSize(QSize(22, 22));
  tree_->setObjectName("paletteTree");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(filter_);
  layout->addWidget(tree_);

  const std::pair<blocks::Category, QString> groups[] = {{blocks::Category::Block, tr("Efficient blocks")},
                                                         {blocks::Category::Layer, tr("Layers")},
                                                         {blocks::Category::Input, tr("Inputs")}};
  for (const auto& [cat, title] : groups) {
    auto* group = new QTreeWidgetItem(tree_, {title});
    group->setFlags(Qt::ItemIsEnabled);
    QFont f = group->font(0);
    f.setBold(true);
    group->setFont(0, f);
    for (const auto& k : blocks::Registry::builtin().kinds()) {
      if (k->info().category != cat) continue;
      auto* item = new QTreeWidgetItem(group, {qs(k->info().title)});
      item->setData(0, Qt::UserRole, qs(k->name()));
      item->setIcon(0, kind_icon(k->info()));
      item->setToolTip(0, tooltip(*k));
      item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
    }
  }
  tree_->expandAll();
  connect(filter_, &QLineEdit::textChanged, this, &Palette::setFilter);
  connect(tree_, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem* item) {
    const QString kind = item->data(0, Qt::UserRole).toString();
    if (!kind.isEmpty()) emit activated(kind);
  });
}

void Palette::setFilter(const QString& text) {
  if (filter_->text() != text) filter_->setText(text);
  for (int g = 0; g < tree_->topLevelItemCount(); ++g) {
    QTreeWidgetItem* group = tree_->topLevelItem(g);
    int shown = 0;
    for (int i = 0; i < group->childCount(); ++i) {
      QTreeWidgetItem* item = group->child(i);
      const auto* k = blocks::Registry::builtin().find(item->data(0, Qt::UserRole).toString().toStdString());
      const bool match = text.isEmpty() || item->text(0).contains(text, Qt::CaseInsensitive) ||
                         (k && (qs(k->name()).contains(text, Qt::CaseInsensitive) ||
                                qs(k->info().summary).contains(text, Qt::CaseInsensitive)));
      item->setHidden(!match);
      shown += match ? 1 : 0;
    }
    group->setHidden(shown == 0);
  }
}

int Palette::visibleKinds() const {
  int n = 0;
  for (int g = 0; g < tree_->topLevelItemCount(); ++g)
    for (int i = 0; i < tree_->topLevelItem(g)->childCount(); ++i)
      n += tree_->topLevelItem(g)->child(i)->isHidden() ? 0 : 1;
  return n;
}

}  // namespace convscope::gui
