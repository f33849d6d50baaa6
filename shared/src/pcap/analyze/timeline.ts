/**
 * Packets and bytes per time bucket in bounded memory: buckets start at one second and double
 * in width whenever the capture's time span would need more than `maxBuckets` of them, so a
 * capture spanning years costs the same as one spanning a minute. Packets out of time order
 * (earlier than the first) are placed correctly.
 */
export class Timeline {
  private packets: Float64Array;
  private bytes: Float64Array;
  /** Start of bucket 0 (whole seconds, a multiple of `width`), NaN before the first packet. */
  private base = NaN;
  private width = 1;
  /** Buckets in use: [0, used). */
  private used = 0;

  constructor(private readonly maxBuckets = 4096) {
    this.packets = new Float64Array(maxBuckets);
    this.bytes = new Float64Array(maxBuckets);
  }

  add(sec: number, len: number): void {
    if (Number.isNaN(this.base)) this.base = sec;
    let i = Math.floor((sec - this.base) / this.width);
    if (i < 0 || i >= this.maxBuckets) i = this.make(sec);
    this.packets[i] = this.packets[i]! + 1;
    this.bytes[i] = this.bytes[i]! + len;
    if (i >= this.used) this.used = i + 1;
  }

  /** Rebases and/or widens buckets until `sec` fits; returns its bucket. */
  private make(sec: number): number {
    for (;;) {
      const i = Math.floor((sec - this.base) / this.width);
      if (i >= 0 && i < this.maxBuckets) return i;
      if (i < 0 && this.used - i <= this.maxBuckets) {
        // Earlier than bucket 0 but still fits: shift everything right by -i buckets.
        this.packets.copyWithin(-i, 0, this.used);
        this.bytes.copyWithin(-i, 0, this.used);
        this.packets.fill(0, 0, -i);
        this.bytes.fill(0, 0, -i);
        this.used -= i;
        this.base += i * this.width;
        return 0;
      }
      this.widen();
    }
  }

  /** Doubles the bucket width, merging neighbours (bucket 0 realigned to the new width). */
  private widen(): void {
    const newWidth = this.width * 2;
    const newBase = Math.floor(this.base / newWidth) * newWidth;
    const shift = (this.base - newBase) / this.width; // 0 or 1 old bucket
    const packets = new Float64Array(this.maxBuckets);
    const bytes = new Float64Array(this.maxBuckets);
    for (let i = 0; i < this.used; i++) {
      const j = (i + shift) >> 1;
      packets[j] = packets[j]! + this.packets[i]!;
      bytes[j] = bytes[j]! + this.bytes[i]!;
    }
    this.used = (this.used + shift + 1) >> 1;
    this.packets = packets;
    this.bytes = bytes;
    this.base = newBase;
    this.width = newWidth;
  }

  report(): { start: number; bucketSeconds: number; packets: number[]; bytes: number[] } {
    return {
      start: Number.isNaN(this.base) ? 0 : this.base,
      bucketSeconds: this.width,
      packets: Array.from(this.packets.subarray(0, this.used)),
      bytes: Array.from(this.bytes.subarray(0, this.used)),
    };
  }
}
