import { useEffect, useRef, useState } from "react";
import { useT } from "./i18n";

// A PDF from a received record, drawn in the window (pdf.js, loaded only when a PDF is shown):
// every page as a picture, at most MAX_PAGES. Fonts are drawn as outlines (no font loading, which
// the window's content policy does not allow for data), and no script in the PDF runs.
const MAX_PAGES = 30;

export function PdfView({ data }: { data: Uint8Array }) {
  const t = useT();
  const box = useRef<HTMLDivElement>(null);
  const [pages, setPages] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      const pdfjs = await import("pdfjs-dist");
      pdfjs.GlobalWorkerOptions.workerSrc = new URL("pdfjs-dist/build/pdf.worker.min.mjs", import.meta.url).toString();
      const pdf = await pdfjs.getDocument({ data, isEvalSupported: false, disableFontFace: true, enableXfa: false }).promise;
      if (cancelled) return;
      setPages(pdf.numPages);
      for (let n = 1; n <= Math.min(pdf.numPages, MAX_PAGES) && !cancelled; n++) {
        const page = await pdf.getPage(n);
        const viewport = page.getViewport({ scale: 1.2 });
        const canvas = document.createElement("canvas");
        canvas.width = viewport.width;
        canvas.height = viewport.height;
        canvas.className = "pdf-page";
        canvas.dataset.page = String(n);
        box.current?.appendChild(canvas);
        await page.render({ canvasContext: canvas.getContext("2d")!, viewport }).promise;
      }
    })().catch((e) => setError(String(e?.message ?? e)));
    return () => {
      cancelled = true;
    };
  }, [data]);

  return (
    <div className="pdf" data-pages={pages ?? ""}>
      {pages !== null && pages > MAX_PAGES && <p className="muted small">{t("viewer.pdfFirst", { shown: MAX_PAGES, pages })}</p>}
      {error && <span className="banner error">{t("viewer.pdfError", { message: error })}</span>}
      <div ref={box} />
    </div>
  );
}
