/**
 * Generates camera-like frames of UR QR codes for the decoder tests and benchmark: the QR symbol is projected through a
 * homography (scale, rotation, perspective) onto a lit paper background, then blurred, given noise and low contrast.
 * Deterministic: every random choice comes from a seeded PRNG. Run directly to write a corpus of PNGs:
 *   npx tsx scripts/qr-corpus.ts OUT_DIR
 */
import { createQrSymbol, createUrFountain, encodePng, type RgbaImage } from '../qr/index.js';

export interface Distortion {
  name: string;
  /** Fraction of the frame height the symbol (with its quiet zone) spans. */
  fill: number;
  rotationDeg: number;
  /** Perspective: the top edge is shortened by this fraction (a tilted phone). */
  tilt: number;
  /** Box-blur radius in pixels (two passes, close to a Gaussian). */
  blur: number;
  /** Standard deviation of additive Gaussian noise, in 8-bit levels. */
  noise: number;
  /** Grey levels of dark modules and of the paper. */
  dark: number;
  light: number;
}

const BASE: Distortion = {
  name: 'clean',
  fill: 0.8,
  rotationDeg: 0,
  tilt: 0,
  blur: 0,
  noise: 0,
  dark: 25,
  light: 230,
};

export const DISTORTIONS: Distortion[] = [
  BASE,
  { ...BASE, name: 'noise', noise: 28 },
  { ...BASE, name: 'blur', blur: 2 },
  { ...BASE, name: 'rotation', fill: 0.62, rotationDeg: 27 },
  { ...BASE, name: 'scale', fill: 0.45 },
  { ...BASE, name: 'perspective', fill: 0.75, tilt: 0.28 },
  { ...BASE, name: 'low-contrast', dark: 105, light: 150 },
  {
    ...BASE,
    name: 'combined',
    fill: 0.7,
    rotationDeg: 12,
    tilt: 0.15,
    blur: 1,
    noise: 12,
    dark: 60,
    light: 190,
  },
];

export const RESOLUTIONS = [
  { name: '640x480', width: 640, height: 480 },
  { name: '1280x720', width: 1280, height: 720 },
] as const;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Point = [number, number];

/** The 3×3 homography (row-major, h33 = 1) taking the four `from` points to the four `to` points. */
function homography(from: Point[], to: Point[]): number[] {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let row = col + 1; row < 8; row++)
      if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let row = 0; row < 8; row++) {
      if (row === col) continue;
      const factor = a[row]![col]! / a[col]![col]!;
      for (let k = col; k < 9; k++) a[row]![k]! -= factor * a[col]![k]!;
    }
  }
  return [...a.map((row, i) => row[8]! / row[i]!), 1];
}

function boxBlur(gray: Float32Array, width: number, height: number, radius: number): Float32Array {
  const out = new Float32Array(gray.length);
  const span = 2 * radius + 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++)
        sum += gray[y * width + Math.min(width - 1, Math.max(0, x + k))]!;
      out[y * width + x] = sum / span;
    }
  }
  const result = new Float32Array(gray.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++)
        sum += out[Math.min(height - 1, Math.max(0, y + k)) * width + x]!;
      result[y * width + x] = sum / span;
    }
  }
  return result;
}

/** One camera-like frame showing the QR code of `text`. */
export function renderCameraFrame(
  text: string,
  width: number,
  height: number,
  d: Distortion,
  seed: number,
): RgbaImage {
  const random = seededRandom(seed);
  const symbol = createQrSymbol(text, 'L');
  const size = symbol.modules.size;
  const quiet = 4;
  const total = size + 2 * quiet;
  const side = d.fill * height;
  const cx = width / 2 + (random() - 0.5) * 0.1 * width;
  const cy = height / 2 + (random() - 0.5) * 0.05 * height;
  const angle = (d.rotationDeg * Math.PI) / 180;
  const half = side / 2;
  const top = half * (1 - d.tilt);
  // Destination corners (top-left, top-right, bottom-right, bottom-left) before rotation; the tilt narrows the top edge.
  const corners: Point[] = [
    [-top, -half * (1 - d.tilt / 2)],
    [top, -half * (1 - d.tilt / 2)],
    [half, half],
    [-half, half],
  ].map(([x, y]) => [
    cx + x! * Math.cos(angle) - y! * Math.sin(angle),
    cy + x! * Math.sin(angle) + y! * Math.cos(angle),
  ]);
  const toSymbol = homography(corners, [
    [0, 0],
    [total, 0],
    [total, total],
    [0, total],
  ]);
  const [h0, h1, h2, h3, h4, h5, h6, h7, h8] = toSymbol as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const modules = symbol.modules.data;
  const gradient = (random() - 0.5) * 30;
  let gray: Float32Array = new Float32Array(width * height);
  const offsets = [0.25, 0.75];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const paper = d.light + (gradient * (x - width / 2)) / width;
      let sum = 0;
      for (const oy of offsets) {
        for (const ox of offsets) {
          const px = x + ox;
          const py = y + oy;
          const w = h6 * px + h7 * py + h8;
          const u = (h0 * px + h1 * py + h2) / w - quiet;
          const v = (h3 * px + h4 * py + h5) / w - quiet;
          const mx = Math.floor(u);
          const my = Math.floor(v);
          const isDark = mx >= 0 && my >= 0 && mx < size && my < size && modules[my * size + mx] === 1;
          sum += isDark ? d.dark : paper;
        }
      }
      gray[y * width + x] = sum / 4;
    }
  }
  if (d.blur > 0) gray = boxBlur(boxBlur(gray, width, height, d.blur), width, height, d.blur);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < gray.length; i++) {
    let value = gray[i]!;
    if (d.noise > 0)
      value += d.noise * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    data[i * 4] = data[i * 4 + 1] = data[i * 4 + 2] = value;
    data[i * 4 + 3] = 255;
  }
  return { width, height, data };
}

export interface CorpusFrame {
  resolution: string;
  distortion: string;
  fragmentBytes: number;
  version: number;
  /** The UR part the frame shows (upper case, as in the QR code). */
  text: string;
  image: RgbaImage;
}

export interface CorpusOptions {
  resolutions?: readonly { name: string; width: number; height: number }[];
  distortions?: Distortion[];
  fragmentSizes?: number[];
  seeds?: number;
}

/** A UR part of a pseudo-random message with the given fragment size (the second fountain part, so it is multi-part). */
export function samplePart(fragmentBytes: number, seed: number): string {
  const random = seededRandom(seed * 7919 + fragmentBytes);
  const message = new Uint8Array(fragmentBytes * 3).map(() => Math.floor(random() * 256));
  const fountain = createUrFountain('bytes', message, fragmentBytes);
  fountain.nextPart();
  return fountain.nextPart().toUpperCase();
}

export function* generateCorpus(options: CorpusOptions = {}): Generator<CorpusFrame> {
  const resolutions = options.resolutions ?? RESOLUTIONS;
  const distortions = options.distortions ?? DISTORTIONS;
  const fragmentSizes = options.fragmentSizes ?? [100, 200, 400];
  const seeds = options.seeds ?? 2;
  for (const resolution of resolutions) {
    for (const distortion of distortions) {
      for (const fragmentBytes of fragmentSizes) {
        for (let seed = 1; seed <= seeds; seed++) {
          const text = samplePart(fragmentBytes, seed);
          const version = createQrSymbol(text, 'L').version;
          const image = renderCameraFrame(
            text,
            resolution.width,
            resolution.height,
            distortion,
            seed * 104729 + fragmentBytes,
          );
          yield {
            resolution: resolution.name,
            distortion: distortion.name,
            fragmentBytes,
            version,
            text,
            image,
          };
        }
      }
    }
  }
}

async function main(outDir: string): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(outDir, { recursive: true });
  let count = 0;
  for (const frame of generateCorpus({ seeds: 1 })) {
    const name = `${frame.resolution}-${frame.distortion}-${frame.fragmentBytes}b-v${frame.version}.png`;
    writeFileSync(`${outDir}/${name}`, encodePng(frame.image));
    count += 1;
  }
  process.stdout.write(`${count} frames written\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: npx tsx scripts/qr-corpus.ts OUT_DIR\n');
    process.exit(2);
  }
  void main(outDir);
}
