// Writes the site icons from one drawing: app/icon.svg (modern browsers), app/favicon.ico
// (16, 32 and 48 px PNGs, for browsers and tools that only ask for /favicon.ico) and
// app/apple-icon.png (180 px, opaque: iOS rounds the corners itself).
// Run from apps/web: `node scripts/make-icons.mjs`. No dependencies: a tiny rasteriser and
// PNG writer over node:zlib.
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

// The drawing, on a 32 × 32 grid: a dark tile, a white prompt chevron, an emerald cursor.
const BG = [0x0b, 0x10, 0x20];
const FG = [0xf8, 0xfa, 0xfc];
const ACCENT = [0x34, 0xd3, 0x99];
const TILE_RADIUS = 7;
const CHEVRON = [
  [8, 10],
  [14, 16],
  [8, 22],
];
const CHEVRON_HALF_WIDTH = 1.6;
const CURSOR = { x: 17, y: 19.5, w: 8, h: 3.2 };

const hex = (c) => `#${c.map((v) => v.toString(16).padStart(2, "0")).join("")}`;

const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
  <rect width="32" height="32" rx="${TILE_RADIUS}" fill="${hex(BG)}"/>
  <polyline points="${CHEVRON.map((p) => p.join(",")).join(" ")}" fill="none" stroke="${hex(FG)}" stroke-width="${CHEVRON_HALF_WIDTH * 2}" stroke-linecap="round" stroke-linejoin="round"/>
  <rect x="${CURSOR.x}" y="${CURSOR.y}" width="${CURSOR.w}" height="${CURSOR.h}" rx="${CURSOR.h / 2}" fill="${hex(ACCENT)}"/>
</svg>
`;

function insideRoundedRect(x, y, rx, ry, w, h, r) {
  const cx = Math.min(Math.max(x, rx + r), rx + w - r);
  const cy = Math.min(Math.max(y, ry + r), ry + h - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r && x >= rx && x <= rx + w && y >= ry && y <= ry + h;
}

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** RGBA pixels of the drawing at size × size, 4 × 4 supersampled. */
function render(size, { opaque }) {
  const pixels = Buffer.alloc(size * size * 4);
  const scale = 32 / size;
  const samples = 4;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) * scale;
          const y = (py + (sy + 0.5) / samples) * scale;
          if (!opaque && !insideRoundedRect(x, y, 0, 0, 32, 32, TILE_RADIUS)) continue;
          let color = BG;
          const onChevron =
            Math.min(
              distanceToSegment(x, y, CHEVRON[0], CHEVRON[1]),
              distanceToSegment(x, y, CHEVRON[1], CHEVRON[2]),
            ) <= CHEVRON_HALF_WIDTH;
          if (onChevron) color = FG;
          const { x: cx, y: cy, w, h } = CURSOR;
          if (insideRoundedRect(x, y, cx, cy, w, h, h / 2)) color = ACCENT;
          r += color[0];
          g += color[1];
          b += color[2];
          a += 1;
        }
      }
      const i = (py * size + px) * 4;
      const n = samples * samples;
      // Colour averaged over covered samples (no dark fringe), coverage as alpha.
      pixels[i] = a ? Math.round(r / a) : 0;
      pixels[i + 1] = a ? Math.round(g / a) : 0;
      pixels[i + 2] = a ? Math.round(b / a) : 0;
      pixels[i + 3] = Math.round((255 * a) / n);
    }
  }
  return pixels;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buffer) {
  let c = 0xffffffff;
  for (const byte of buffer) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(size, options) {
  const pixels = render(size, options);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows = [];
  for (let y = 0; y < size; y++) {
    rows.push(Buffer.from([0]), pixels.subarray(y * size * 4, (y + 1) * size * 4));
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** An .ico holding PNG images (Windows Vista and every current browser read these). */
function ico(sizes) {
  const images = sizes.map((size) => png(size, { opaque: false }));
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map((image, i) => {
    const entry = Buffer.alloc(16);
    entry[0] = sizes[i] >= 256 ? 0 : sizes[i];
    entry[1] = sizes[i] >= 256 ? 0 : sizes[i];
    entry.writeUInt16LE(1, 4); // colour planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(image.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += image.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...images]);
}

const appDir = new URL("../app/", import.meta.url);
writeFileSync(new URL("icon.svg", appDir), svg);
writeFileSync(new URL("favicon.ico", appDir), ico([16, 32, 48]));
writeFileSync(new URL("apple-icon.png", appDir), png(180, { opaque: true }));
console.log("wrote app/icon.svg, app/favicon.ico, app/apple-icon.png");
