'use strict';
/*
 * Zip and tar readers for the action proxies (no unzip/tar binaries exist in the scratch images).
 * Shared by the Node.js proxy and the docker-skeleton proxy; Node standard library only.
 */
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

function safeTarget(root, name) {
  const clean = name.replace(/\\/g, '/').replace(/^\.\/+/, '');
  if (clean === '' || clean === '.') return undefined;
  const target = path.resolve(root, clean);
  if (target !== root && !target.startsWith(root + path.sep)) {
    throw new Error('Archive entry escapes the target directory: ' + name);
  }
  return target;
}

function writeEntry(root, name, data, mode, isDir) {
  const target = safeTarget(root, name);
  if (!target) return;
  if (isDir) {
    fs.mkdirSync(target, { recursive: true });
    return;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, data, { mode: mode & 0o777 ? mode & 0o777 : 0o644 });
}

function extractZip(buf, root) {
  const EOCD = 0x06054b50;
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || p === 0xffffffff) throw new Error('zip64 archives are not supported');
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const versionMadeBy = buf.readUInt16LE(p + 4);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const extAttr = buf.readUInt32LE(p + 38);
    const localOff = buf.readUInt32LE(p + 42);
    const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (flags & 0x1) throw new Error('encrypted zip entries are not supported: ' + name);
    if (buf.readUInt32LE(localOff) !== 0x04034b50) throw new Error('corrupt zip local header: ' + name);
    const dataOff = localOff + 30 + buf.readUInt16LE(localOff + 26) + buf.readUInt16LE(localOff + 28);
    const unixMode = versionMadeBy >> 8 === 3 ? extAttr >>> 16 : 0;
    const fileType = unixMode & 0o170000;
    if (name.endsWith('/') || fileType === 0o040000) {
      writeEntry(root, name, null, 0, true);
      continue;
    }
    if (fileType === 0o120000) continue; // symlinks could point outside the action directory
    const raw = buf.subarray(dataOff, dataOff + csize);
    let data;
    if (method === 0) data = raw;
    else if (method === 8) data = zlib.inflateRawSync(raw);
    else throw new Error('unsupported zip compression method ' + method + ': ' + name);
    if (data.length !== usize) throw new Error('zip entry size mismatch: ' + name);
    writeEntry(root, name, data, unixMode, false);
  }
}

function tarString(buf, off, len) {
  const end = buf.indexOf(0, off);
  return buf.toString('utf8', off, end >= 0 && end < off + len ? end : off + len);
}

function tarNumber(buf, off, len) {
  if (buf[off] & 0x80) {
    // GNU base-256 encoding for large sizes.
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + buf[i];
    return v;
  }
  const s = tarString(buf, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function extractTar(buf, root) {
  let p = 0;
  let longName;
  let paxPath;
  while (p + 512 <= buf.length) {
    const header = buf.subarray(p, p + 512);
    if (header.every((b) => b === 0)) break;
    let name = tarString(header, 0, 100);
    const mode = tarNumber(header, 100, 8);
    const size = tarNumber(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    if (header.toString('latin1', 257, 262) === 'ustar') {
      const prefix = tarString(header, 345, 155);
      if (prefix) name = prefix + '/' + name;
    }
    const data = buf.subarray(p + 512, p + 512 + size);
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = tarString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m) paxPath = m[1];
      continue;
    }
    if (type === 'g') continue;
    if (paxPath !== undefined) name = paxPath;
    else if (longName !== undefined) name = longName;
    longName = undefined;
    paxPath = undefined;
    if (type === '5') writeEntry(root, name, null, 0, true);
    else if (type === '0' || type === '7') writeEntry(root, name, data, mode, false);
    // Links and devices are skipped: they could point outside the action directory.
  }
}

module.exports = { extractZip, extractTar };
