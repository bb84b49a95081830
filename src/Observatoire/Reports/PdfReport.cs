using ScottPlot;
using SkiaSharp;

namespace Observatoire.Reports;

/// <summary>
/// The report as a PDF (A4, French), a pure function of <see cref="ReportModel"/>. Written with
/// SkiaSharp's PDF backend; charts are ScottPlot plots drawn as vectors on the page canvas (sharp at
/// any zoom, searchable text), never embedded bitmaps.
/// </summary>
public static class PdfReport
{
    /// <summary>To-do rows printed in an ATD report; the full list is in todo.csv / the XLSX.</summary>
    public const int TodoRowsInPdf = 150;

    /// <summary>Changes printed per kind in the « Changements » section; the full list is in changes.csv, the XLSX and /api/changes.</summary>
    public const int ChangeRowsPerKindInPdf = 40;

    public static byte[] Render(ReportModel m)
    {
        using var ms = new MemoryStream();
        Render(m, ms);
        return ms.ToArray();
    }

    public static void Render(ReportModel m, Stream output)
    {
        var title = m.Scope.AtdId is null ? "Rapport d'avancement de l'ouverture des données" : "Rapport d'ATD : ouverture des données du périmètre";
        var meta = new SKDocumentPdfMetadata
        {
            Title = $"{title} — {m.Scope.Label} — {Fr.Date(m.AsOf)}",
            Author = "Observatoire open data des territoires",
            Creator = "Observatoire",
            Producer = "Observatoire (SkiaSharp)",
            Creation = DateTime.Now,
            RasterDpi = 150,
            EncodingQuality = 101,   // no lossy JPEG if anything is ever rasterised
        };
        using var doc = SKDocument.CreatePdf(output, meta);
        using var w = new PageWriter(doc, $"Observatoire open data des territoires — {m.Scope.Label} — au {Fr.Date(m.AsOf)}");

        // Page 1: headline and progress.
        w.Title(title);
        w.Paragraph($"{m.Scope.Label} — situation au {Fr.Date(m.AsOf)}", 12, PageWriter.Muted);
        if (ReportModel.DataAge(m) is { Length: > 0 } age) w.Paragraph(age, 10, PageWriter.Ink, bold: true);
        if (m.Notice is { } notice) w.Notice(notice);
        w.Heading("Chiffres clés");
        var h = m.Headline;
        w.Tiles([
            (Fr.Int(h.Open), !m.Scope.IsNational ? "collectivités ouvertes dans le périmètre"
                : h.GoalShare is { } share ? $"collectivités ouvertes (objectif {Fr.Int(h.Goal)} : {Fr.Percent(share)})"
                : $"collectivités ouvertes (objectif {Fr.Int(h.Goal)}) : pas d'observation"),
            (Fr.Percent(h.Rate), h.ObligedOpen is { } oo ? $"des collectivités obligées sont ouvertes ({Fr.Int(oo)} sur {Fr.Int(h.Obliged)})"
                : $"taux d'ouverture des {Fr.Int(h.Obliged)} collectivités obligées : inconnu à cette date"),
            (Fr.Int(h.PopulationOpenCommunes), $"habitants dans les communes ouvertes (sur {Fr.Int(h.PopulationTotal)})"),
            (Fr.Int(h.PopulationCovered), "habitants dont la commune ou l'intercommunalité (EPCI, EPT) est ouverte"),
        ]);
        w.Paragraph(Indicators.IndicatorQueries.ObligationNote, 9, PageWriter.Muted);
        w.Heading("Progression");
        w.Chart(Charts.Create("progress", m), 250);
        w.Paragraph(m.Progress.ProjectionText);

        // Breakdowns.
        w.NewPage();
        w.Heading("Par strate de population (communes)");
        BreakdownTable(w, m.Bands, "Strate (habitants)");
        w.Chart(Charts.Create("bands", m), 190);
        w.Heading("Par type de collectivité");
        BreakdownTable(w, m.Types, "Type");
        w.Chart(Charts.Create("types", m), 190);

        if (m.Regions.Count > 1)
        {
            w.NewPage();
            w.Heading("Par région");
            BreakdownTable(w, m.Regions, "Région", small: true);
            w.Chart(Charts.Create("regions", m), 300);
        }
        else if (m.Scope.RegionCode is not null || m.Scope.AtdId is not null)
        {
            w.Heading("Par département");
            BreakdownTable(w, m.Departements, "Département", small: true);
        }

        // ATD network.
        w.NewPage();
        w.Heading("Réseau des ATD (animateurs territoriaux des données)");
        var a = m.Atd;
        if (m.Scope.AtdId is not null)
            w.Paragraph($"Dans le périmètre de l'ATD {m.Scope.AtdName} : {Fr.Int(a.Inside.ObligedOpen)} collectivités obligées ouvertes sur {Fr.Int(a.Inside.Obliged)}, "
                + $"soit un taux d'ouverture de {Fr.Percent(a.Inside.Rate)}. Le rapport national compare ce taux entre périmètres d'ATD et hors périmètre.");
        else
        {
            w.Paragraph(a.AtdCount == 0
                ? "Aucun ATD ne couvre ce périmètre (ou le registre des ATD n'est pas chargé)."
                : $"{Fr.Int(a.AtdCount)} ATD {(a.AtdCount > 1 ? "couvrent" : "couvre")} tout ou partie de ce périmètre. Taux d'ouverture des collectivités obligées dans leurs périmètres et en dehors :");
            w.Table(
                [("", 180, false), ("Collectivités", 80, true), ("Obligées", 70, true), ("Obligées ouvertes", 105, true), ("Taux", 80, true)],
                [
                    ["Dans un périmètre d'ATD", Fr.Int(a.Inside.Collectivites), Fr.Int(a.Inside.Obliged), Fr.Int(a.Inside.ObligedOpen), Fr.Percent(a.Inside.Rate)],
                    ["Hors périmètre d'ATD", Fr.Int(a.Outside.Collectivites), Fr.Int(a.Outside.Obliged), Fr.Int(a.Outside.ObligedOpen), Fr.Percent(a.Outside.Rate)],
                ]);
        }
        if (m.Scope.AtdId is null)
        {
            w.Heading("Les plus longues listes « à faire »");
            w.Paragraph("Collectivités obligées du périmètre de chaque ATD qui ne sont pas encore ouvertes ; les plus peuplées sont citées.", 9, PageWriter.Muted);
            if (a.LargestTodoLists.Count == 0)
                w.Paragraph(m.BeforeFirstObservation ? "Sans observation à cette date, pas de liste à faire." : "Aucune liste à faire.");
            else
                w.Table(
                    [("ATD", 170, false), ("À ouvrir", 55, true), ("Les plus peuplées", 290, false)],
                    a.LargestTodoLists.Select(t => new[]
                    {
                        t.AtdName, Fr.Int(t.TodoCount),
                        string.Join(", ", t.TopItems.Select(i => $"{i.Name} ({Fr.Int(i.Population)})")),
                    }).ToList(), wrap: true);
        }
        else
        {
            w.Heading($"Liste « à faire » : obligées non ouvertes ({Fr.Int(m.Todo.Total)})");
            if (m.BeforeFirstObservation)
                w.Paragraph("Sans observation à cette date, pas de liste à faire.");
            else
            {
                if (m.Todo.Total > TodoRowsInPdf)
                    w.Paragraph($"Les {TodoRowsInPdf} plus peuplées ; la liste complète est dans todo.csv et le classeur XLSX.", 9, PageWriter.Muted);
                w.Table(
                    [("Collectivité", 220, false), ("Type", 45, false), ("Dép.", 40, false), ("SIREN", 85, false), ("Population", 75, true)],
                    m.Todo.Items.Take(TodoRowsInPdf).Select(i => new[] { i.Name, i.Type, i.DepartementCode ?? "", i.Siren ?? "", Fr.Int(i.Population) }).ToList(),
                    small: true);
            }
        }

        ChangesSection(w, m);

        // Sources and method.
        w.NewPage();
        w.Heading("Sources et licences");
        foreach (var s in m.Sources)
        {
            w.Paragraph(s.Name, 10, PageWriter.Ink, bold: true);
            w.Paragraph($"{s.What}. Licence : {s.Licence}." + (s.Detail is { } d ? $" {d}." : ""), 9);
        }
        w.Heading("Notes de méthode");
        foreach (var n in m.MethodNotes) w.Bullet(n);
        w.Paragraph($"Référentiel : {m.Vintage ?? "non chargé"}. Observations chargées : "
            + (m.FirstObservation is { } f && m.LatestObservation is { } l ? $"du {Fr.Date(f)} au {Fr.Date(l)}." : "aucune."), 9, PageWriter.Muted);
        w.Finish();
        doc.Close();
    }

    static readonly (string Kind, string Title)[] ChangeKinds =
    [
        ("newly_open", "Nouvellement ouvertes"), ("no_longer_listed", "N'apparaissent plus ouvertes"),
        ("datasets_up", "Jeux de données en hausse"), ("datasets_down", "Jeux de données en baisse"),
    ];

    /// <summary>« Changements »: the dates and their rule, the counts per kind, then the most populous changes of each kind.</summary>
    static void ChangesSection(PageWriter w, ReportModel m)
    {
        var c = m.Changes;
        w.NewPage();
        w.Heading(c.From is { } from ? $"Changements du {Fr.Date(from)} au {Fr.Date(c.To)}" : "Changements");
        w.Paragraph(c.RuleText, 9, PageWriter.Muted);
        if (c.From is null) return;
        if (!c.ObservedFrom)
            w.Paragraph($"Le {Fr.Date(c.From.Value)} précède la première observation"
                + (m.FirstObservation is { } f ? $" ({Fr.Date(f)})" : "") + " : aucune collectivité n'était alors observée ouverte.", 9, PageWriter.Muted);
        w.Table(
            [("Changement", 300, false), ("Collectivités", 100, true)],
            ChangeKinds.Select(k => new[] { k.Title, Fr.Int(c.Items.Count(i => i.Kind == k.Kind)) }).ToList());
        w.Paragraph("Nouvellement ouverte : ouverte à la seconde date, pas à la première. N'apparaît plus ouverte : l'inverse (absente d'un recensement "
            + "complet postérieur, ou observée fermée). Jeux en hausse ou en baisse : ouverte aux deux dates, nombre de jeux de données connu aux deux "
            + "dates et différent. Pour chaque collectivité, l'observation qui décide de son état à la seconde date (date et source).", 8.5f, PageWriter.Muted);
        if (c.Items.Count == 0)
        {
            w.Paragraph("Aucun changement entre ces deux dates dans ce périmètre.");
            return;
        }
        var csv = c.CsvUrl(m.Scope);
        if (c.Items.Count > ChangeKinds.Sum(k => Math.Min(ChangeRowsPerKindInPdf, c.Items.Count(i => i.Kind == k.Kind))))
            w.Paragraph($"Au plus {ChangeRowsPerKindInPdf} collectivités par nature de changement, les plus peuplées ; la liste complète "
                + $"({Fr.Int(c.Items.Count)} changements) est dans la feuille « Changements » du classeur XLSX, changes.csv et {csv}.", 9, PageWriter.Muted);
        foreach (var (kind, title) in ChangeKinds)
        {
            var rows = c.Items.Where(i => i.Kind == kind).ToList();
            if (rows.Count == 0) continue;
            var more = rows.Count - ChangeRowsPerKindInPdf;
            w.Paragraph($"{title} ({Fr.Int(rows.Count)})", 10.5f, PageWriter.Accent, bold: true);
            w.Table(
                [("Collectivité", 160, false), ("Type", 36, false), ("Dép.", 30, false), ("Jeux avant → après", 100, true), ("Observation", 140, false)],
                rows.Take(ChangeRowsPerKindInPdf).Select(i => new[]
                {
                    i.Name, i.Type, i.Departement ?? "", $"{Fr.Int(i.DatasetsBefore)} → {Fr.Int(i.DatasetsAfter)}",
                    i.After is { } o ? $"{o.Date:yyyy-MM-dd} {o.Source}" : "",
                }).ToList(), small: true);
            if (more > 0)
                w.Paragraph($"… et {Fr.Int(more)} de plus : liste complète dans {csv}.", 8.5f, PageWriter.Muted);
        }
        if (c.Truncated)
            w.Paragraph($"La liste s'arrête à {Fr.Int(Indicators.ChangeQueries.MaxRows)} changements : resserrez les dates ou le périmètre.", 9, PageWriter.Muted);
    }

    static void BreakdownTable(PageWriter w, IReadOnlyList<BreakdownRow> rows, string keyHeader, bool small = false) =>
        w.Table(
            [(keyHeader, 165, false), ("Collectivités", 68, true), ("Obligées", 56, true), ("Ouvertes", 56, true), ("Obligées ouvertes", 102, true), ("Taux", 50, true)],
            rows.Select(r => new[] { r.Label, Fr.Int(r.Collectivites), Fr.Int(r.Obliged), Fr.Int(r.Open), Fr.Int(r.ObligedOpen), Fr.Percent(r.Rate) }).ToList(),
            small: small);

    /// <summary>Flowing layout on A4 pages: a cursor, page breaks, a footer with the page number.</summary>
    sealed class PageWriter(SKDocument doc, string footer) : IDisposable
    {
        const float PageW = 595.28f, PageH = 841.89f, Margin = 45, Bottom = PageH - 50;
        public static readonly SKColor Ink = new(0x22, 0x22, 0x22), Muted = new(0x66, 0x66, 0x66), Accent = new(0x1f, 0x4e, 0x9c);
        static readonly SKTypeface Regular = Face(SKFontStyle.Normal), Bold = Face(SKFontStyle.Bold);

        SKCanvas? canvas;
        float y;
        int page;

        static SKTypeface Face(SKFontStyle style) =>
            SKTypeface.FromFamilyName(Charts.FontFamily, style) is { } t && t.FamilyName == Charts.FontFamily
                ? t
                : throw new InvalidOperationException($"Police « {Charts.FontFamily} » introuvable : installez le paquet Debian fonts-dejavu-core.");

        SKCanvas Canvas => canvas ?? NewPage();

        public SKCanvas NewPage()
        {
            if (canvas is not null) EndPage();
            canvas = doc.BeginPage(PageW, PageH);
            page++;
            y = Margin;
            return canvas;
        }

        void EndPage()
        {
            using var font = new SKFont(Regular, 8);
            using var paint = new SKPaint { Color = Muted, IsAntialias = true };
            canvas!.DrawText(footer, Margin, PageH - 25, SKTextAlign.Left, font, paint);
            canvas.DrawText($"page {page}", PageW - Margin, PageH - 25, SKTextAlign.Right, font, paint);
            doc.EndPage();
            canvas = null;
        }

        public void Finish() { if (canvas is not null) EndPage(); }

        void Ensure(float height)
        {
            if (canvas is null || y + height > Bottom) NewPage();
        }

        public void Title(string text) => Paragraph(text, 18, Accent, bold: true);

        public void Heading(string text)
        {
            Ensure(70);   // keep a heading with what follows
            y += 10;
            Text(text, 13.5f, Accent, bold: true);
            using var p = new SKPaint { Color = Accent, StrokeWidth = 0.8f };
            Canvas.DrawLine(Margin, y - 2, PageW - Margin, y - 2, p);
            y += 6;
        }

        void Text(string text, float size, SKColor color, bool bold = false)
        {
            using var font = new SKFont(bold ? Bold : Regular, size);
            using var paint = new SKPaint { Color = color, IsAntialias = true };
            y += size * 1.2f;
            Canvas.DrawText(text, Margin, y, SKTextAlign.Left, font, paint);
            y += size * 0.35f;
        }

        public void Paragraph(string text, float size = 10, SKColor? color = null, bool bold = false, float indent = 0)
        {
            using var font = new SKFont(bold ? Bold : Regular, size);
            using var paint = new SKPaint { Color = color ?? Ink, IsAntialias = true };
            foreach (var line in Wrap(text, font, PageW - 2 * Margin - indent))
            {
                Ensure(size * 1.4f);
                y += size * 1.3f;
                Canvas.DrawText(line, Margin + indent, y, SKTextAlign.Left, font, paint);
            }
            y += size * 0.5f;
        }

        public void Bullet(string text)
        {
            Ensure(14);
            using var font = new SKFont(Regular, 9.5f);
            using var paint = new SKPaint { Color = Accent, IsAntialias = true };
            Canvas.DrawText("•", Margin + 2, y + 9.5f * 1.3f, SKTextAlign.Left, font, paint);
            Paragraph(text, 9.5f, indent: 12);
        }

        public void Notice(string text)
        {
            using var font = new SKFont(Bold, 10.5f);
            var lines = Wrap(text, font, PageW - 2 * Margin - 20);
            var height = lines.Count * 14 + 14;
            Ensure(height + 10);
            y += 6;
            using var fill = new SKPaint { Color = new SKColor(0xfd, 0xf0, 0xe0) };
            using var border = new SKPaint { Color = new SKColor(0xd9, 0x76, 0x2b), Style = SKPaintStyle.Stroke, StrokeWidth = 1.2f };
            var rect = new SKRect(Margin, y, PageW - Margin, y + height);
            Canvas.DrawRect(rect, fill);
            Canvas.DrawRect(rect, border);
            using var paint = new SKPaint { Color = new SKColor(0x8a, 0x3b, 0x00), IsAntialias = true };
            var ty = y + 7;
            foreach (var line in lines)
            {
                ty += 14;
                Canvas.DrawText(line, Margin + 10, ty - 3, SKTextAlign.Left, font, paint);
            }
            y += height + 6;
        }

        /// <summary>Big figures side by side, each with a wrapped caption.</summary>
        public void Tiles(IReadOnlyList<(string Value, string Caption)> tiles)
        {
            const float gap = 10, height = 92;
            Ensure(height + 10);
            var width = (PageW - 2 * Margin - gap * (tiles.Count - 1)) / tiles.Count;
            using var big = new SKFont(Bold, 19);
            using var small = new SKFont(Regular, 8.5f);
            using var bg = new SKPaint { Color = new SKColor(0xee, 0xf2, 0xf9) };
            using var accent = new SKPaint { Color = Accent, IsAntialias = true };
            using var ink = new SKPaint { Color = Ink, IsAntialias = true };
            for (var i = 0; i < tiles.Count; i++)
            {
                var x = Margin + i * (width + gap);
                Canvas.DrawRect(new SKRect(x, y, x + width, y + height), bg);
                // Shrink a long figure to the tile's width rather than let it spill over the next tile.
                big.Size = 19;
                var tw = big.MeasureText(tiles[i].Value);
                if (tw > width - 16) big.Size = 19 * (width - 16) / tw;
                Canvas.DrawText(tiles[i].Value, x + 8, y + 26, SKTextAlign.Left, big, accent);
                var ly = y + 42;
                foreach (var line in Wrap(tiles[i].Caption, small, width - 16).Take(5))
                {
                    Canvas.DrawText(line, x + 8, ly, SKTextAlign.Left, small, ink);
                    ly += 10.5f;
                }
            }
            y += height + 8;
        }

        /// <summary>A ScottPlot plot drawn as vectors, full text width, scaled so its fonts read as ~8–9 pt.</summary>
        public void Chart(Plot plot, float height)
        {
            const float scale = 0.62f;
            Ensure(height + 6);
            var width = PageW - 2 * Margin;
            var c = Canvas;
            c.Save();
            c.Translate(Margin, y + 4);
            c.Scale(scale);
            c.ClipRect(new SKRect(0, 0, width / scale, height / scale));
            plot.Render(c, (int)(width / scale), (int)(height / scale));
            c.Restore();
            y += height + 10;
        }

        public void Table(IReadOnlyList<(string Header, float Width, bool Right)> cols, IReadOnlyList<string[]> rows, bool small = false, bool wrap = false)
        {
            var size = small ? 8f : 9f;
            var lineH = size * 1.45f;
            using var font = new SKFont(Regular, size);
            using var bold = new SKFont(Bold, size);
            using var ink = new SKPaint { Color = Ink, IsAntialias = true };
            using var headBg = new SKPaint { Color = new SKColor(0xdd, 0xe5, 0xf2) };
            using var zebra = new SKPaint { Color = new SKColor(0xf5, 0xf7, 0xfb) };
            var total = cols.Sum(c => c.Width);
            var k = (PageW - 2 * Margin) / total;   // widths are relative: the table spans the text width

            void Header()
            {
                Ensure(lineH * 3);
                Canvas.DrawRect(new SKRect(Margin, y, PageW - Margin, y + lineH + 2), headBg);
                var x = Margin;
                foreach (var (header, width, right) in cols)
                {
                    var cw = width * k;
                    var text = Fit(header, bold, cw - 6);
                    Canvas.DrawText(text, right ? x + cw - 3 : x + 3, y + lineH - 2, right ? SKTextAlign.Right : SKTextAlign.Left, bold, ink);
                    x += cw;
                }
                y += lineH + 2;
            }

            Header();
            for (var r = 0; r < rows.Count; r++)
            {
                var cells = rows[r].Select((v, i) => wrap && !cols[i].Right ? Wrap(v, font, cols[i].Width * k - 6) : [Fit(v, font, cols[i].Width * k - 6)]).ToList();
                var lines = Math.Max(1, cells.Max(c => c.Count));
                var rowH = lines * lineH;
                if (y + rowH > Bottom) { NewPage(); Header(); }
                if (r % 2 == 1) Canvas.DrawRect(new SKRect(Margin, y, PageW - Margin, y + rowH), zebra);
                var x = Margin;
                for (var i = 0; i < cols.Count; i++)
                {
                    var cw = cols[i].Width * k;
                    for (var l = 0; l < cells[i].Count; l++)
                        Canvas.DrawText(cells[i][l], cols[i].Right ? x + cw - 3 : x + 3, y + (l + 1) * lineH - 3,
                            cols[i].Right ? SKTextAlign.Right : SKTextAlign.Left, font, ink);
                    x += cw;
                }
                y += rowH;
            }
            y += 8;
        }

        static string Fit(string text, SKFont font, float width)
        {
            if (font.MeasureText(text) <= width) return text;
            while (text.Length > 1 && font.MeasureText(text + "…") > width) text = text[..^1];
            return text.TrimEnd() + "…";
        }

        static List<string> Wrap(string text, SKFont font, float width)
        {
            var lines = new List<string>();
            var current = "";
            foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = current.Length == 0 ? word : current + " " + word;
                if (current.Length > 0 && font.MeasureText(candidate) > width)
                {
                    lines.Add(current);
                    current = word;
                }
                else current = candidate;
            }
            if (current.Length > 0) lines.Add(current);
            return lines;
        }

        public void Dispose() { }
    }
}
