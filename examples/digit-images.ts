import { execFile } from 'node:child_process';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { sandboxImageTag } from '../sandbox/image';

const exec = promisify(execFile);

/**
 * scikit-learn's bundled handwritten digits (1797 scans, 8x8 pixels, 16 grey levels) written out as
 * PNG files, inside the sandbox image (Python runs only there): `labels-table` puts them in images/
 * with labels.csv (file, label); `class-folders` puts each in a folder named after its digit.
 */
const WRITE_DIGITS = `
import csv, os, sys
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
layout, limit = sys.argv[1], int(sys.argv[2])
digits = load_digits()
rows = []
for i, (pixels, label) in enumerate(zip(digits.images[:limit], digits.target[:limit])):
    folder = "images" if layout == "labels-table" else str(label)
    os.makedirs(os.path.join("/out", folder), exist_ok=True)
    name = f"{folder}/scan-{i:04d}.png"
    Image.fromarray((pixels * 255 / 16).round().astype(np.uint8), mode="L").save(os.path.join("/out", name))
    rows.append((name, int(label)))
if layout == "labels-table":
    with open("/out/labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([("file", "label"), *rows])
`;

export type DigitLayout = 'labels-table' | 'class-folders';

/** Writes the digits into `dir` (once: a folder that already holds files is kept) and returns it. */
export async function writeDigitImages(dir: string, layout: DigitLayout = 'labels-table', limit = 1797) {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  if ((await readdir(out)).length > 0) return out;
  await chmod(out, 0o777); // the sandbox user (10001) writes into it
  const image = process.env.ANVIL_SANDBOX_IMAGE ?? sandboxImageTag();
  const args = ['run', '--rm', '--network', 'none', '-v', `${out}:/out`, image, 'python3', '-c', WRITE_DIGITS];
  await exec('docker', [...args, layout, String(limit)], { maxBuffer: 16 * 1024 * 1024 });
  return out;
}
