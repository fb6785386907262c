import localFont from "next/font/local";

// next/font/google needs the network at build time; the font ships in an npm package instead (docs/architecture.md, "Constraints found by trying").
export const inter = localFont({
  src: "../node_modules/@fontsource-variable/inter/files/inter-latin-wght-normal.woff2",
  variable: "--font-inter",
  display: "swap",
});
