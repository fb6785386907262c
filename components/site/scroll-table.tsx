"use client";

import { useEffect, useRef, useState, type ReactNode } from "react";

/**
 * A wide table that scrolls sideways inside its card on a narrow screen instead of widening the
 * page, with a visible cue while columns are hidden to the right. The scroll area is focusable so
 * keyboard users can scroll it too (axe: scrollable-region-focusable). The area is itself
 * positioned: an absolutely positioned cell content (Tailwind's sr-only labels) is clipped by the
 * scroller only when its containing block lies inside it, and would otherwise widen the page.
 */
export function ScrollTable({ label, children }: { label: string; children: ReactNode }) {
  const area = useRef<HTMLDivElement>(null);
  const [hiddenRight, setHiddenRight] = useState(false);
  useEffect(() => {
    const element = area.current;
    if (!element) return;
    const measure = () => setHiddenRight(element.scrollLeft + element.clientWidth < element.scrollWidth - 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    // The table itself too: live pages (the dashboard) grow and shrink it without resizing the area.
    if (element.firstElementChild) observer.observe(element.firstElementChild);
    element.addEventListener("scroll", measure, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener("scroll", measure);
    };
  }, []);
  return (
    <div>
      <div className="relative">
        <div
          ref={area}
          role="region"
          aria-label={label}
          tabIndex={0}
          className="relative overflow-x-auto rounded focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600"
          data-testid="scroll-table"
        >
          {children}
        </div>
        {hiddenRight && <div aria-hidden className="pointer-events-none absolute inset-y-0 right-0 w-8 bg-gradient-to-l from-white to-transparent" />}
      </div>
      {hiddenRight && (
        <p className="mt-1 text-right text-xs text-slate-600" data-testid="scroll-cue">
          Scroll sideways for more columns →
        </p>
      )}
    </div>
  );
}
