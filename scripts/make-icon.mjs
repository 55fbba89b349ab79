// Draws images/icon.png (128x128): two crossing lanes, one broken — a race. Run once; committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const N = 128;
const px = Buffer.alloc(N * (N * 4 + 1));
const set = (x, y, [r, g, b, a = 255]) => {
  if (x < 0 || y < 0 || x >= N || y >= N) return;
  const i = y * (N * 4 + 1) + 1 + x * 4;
  px[i] = r; px[i + 1] = g; px[i + 2] = b; px[i + 3] = a;
};
for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
  const r = Math.hypot(x - 63.5, y - 63.5);
  set(x, y, r < 60 ? [30, 42, 56] : [0, 0, 0, 0]);
}
for (let t = 0; t < N; t++) {
  for (let w = -5; w <= 5; w++) {
    const a = 20 + t * 0.69, b = 34 + t * 0.47;
    if (a > 108) continue;
    set(Math.round(a), Math.round(40 + w + Math.sin(t / 9) * 6), [0, 173, 216]);
    if (t % 22 < 14) set(Math.round(b) + 2, Math.round(88 + w - Math.sin(t / 9) * 6), [255, 176, 0]);
  }
}
for (let y = 52; y < 78; y++) for (let x = 60; x < 68; x++) set(x, y, [230, 57, 70]);
const crc = (buf) => { let c = ~0; for (const b of buf) { c ^= b; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); } return ~c >>> 0; };
const chunk = (type, data) => {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};
const ihdr = Buffer.alloc(13); ihdr.writeUInt32BE(N, 0); ihdr.writeUInt32BE(N, 4); ihdr[8] = 8; ihdr[9] = 6;
writeFileSync(new URL('../images/icon.png', import.meta.url), Buffer.concat([
  Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(px)), chunk('IEND', Buffer.alloc(0)),
]));
