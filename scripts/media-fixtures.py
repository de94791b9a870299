#!/usr/bin/env python3
"""Generate media fixtures with independent tools, and read the expected probe values back with them.

Usage (scripts/setup installs the tools and the venv):
    "${REGISTRAR_TOOLS_VENV:-/opt/registrar-tools-venv}/bin/python" scripts/media-fixtures.py OUTDIR

Writes into OUTDIR a set of small media files (each < 200 KB, all < 5 MB) and OUTDIR/expected.json,
a list with one entry per file:

    {"file": NAME, "declared": "image|video|audio|pdf|text|dicom_series|nifti",
     "expect": {...the `registrar probe --json` field names...},
     "tolerance": {"duration": 0.05, ...}, "optional": [...], "tool": "...", "note": "..."}
    {"file": NAME, "declared": ..., "error": CODE, "tool": "...", "note": "..."}

The expected values are what the *independent* tool reports (Pillow, ffprobe, pdfinfo, pydicom,
nibabel), never what our own parser computes; only `kind`, `fileSize` (os.stat) and the
mimeType of text files (inputs we define, see make_text) are decided here. Tolerances:
`duration` is relative (|got - want| <= 0.05 * want), every other tolerance is absolute;
fields without a tolerance must be equal. `optional` lists fields a header-only probe cannot be
expected to know (it may omit them; if it reports them they must match).
Tests/RegistrarIntegrationTests/MEDIA-FIXTURES.md describes every file.

Deterministic for given tool versions: fixed seeds, fixed UIDs, bitexact ffmpeg muxing,
reportlab's invariant mode, qpdf --deterministic-id, gzip mtime 0. Every file's special property
(SOF past 64 KiB, moov past 64 KiB, ID3v2 tag past 64 KiB, Adam7, byte order, xref stream, ...)
is checked after writing; any failed check or missing tool exits non-zero.
"""

import gzip
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib

KIB = 1024
MAX_FILE = 200 * 1000
MAX_TOTAL = 5 * 1000 * 1000
REL_DURATION = 0.05
FPS_TOL = 0.01


def fail(msg):
    print(f"media-fixtures: {msg}", file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(f"check failed: {msg}")


# --------------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------------

TOOLS = ["ffmpeg", "ffprobe", "pdfinfo", "qpdf"]
missing = [t for t in TOOLS if shutil.which(t) is None]
try:
    import numpy as np
    import nibabel as nib
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid)
    from PIL import Image, features
    import reportlab
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.pdfgen import canvas
except ImportError as e:  # pragma: no cover - the loud failure the brief asks for
    missing.append(f"python module {e.name}")
if missing:
    fail("missing tools: " + ", ".join(missing) + " (scripts/setup installs them; run this script "
         "with the venv's python, ${REGISTRAR_TOOLS_VENV:-/opt/registrar-tools-venv}/bin/python)")


def run(cmd, **kw):
    p = subprocess.run(cmd, capture_output=True, **kw)
    if p.returncode != 0:
        fail(f"{cmd[0]} failed ({p.returncode}): {' '.join(map(str, cmd))}\n"
             f"{p.stderr.decode(errors='replace')[-2000:]}")
    return p.stdout


def tool_version(cmd, pattern):
    out = subprocess.run(cmd, capture_output=True, text=True)
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else "?"


FFPROBE = "ffprobe " + tool_version(["ffprobe", "-version"], r"ffprobe version (\S+)")
PDFINFO = "pdfinfo " + tool_version(["pdfinfo", "-v"], r"pdfinfo version (\S+)")
PILLOW = "Pillow " + Image.__version__
PYDICOM = "pydicom " + pydicom.__version__
NIBABEL = "nibabel " + nib.__version__


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

# `--sequence N OUTDIR [--corrupt I]`: N JPEG frames of an image sequence (docs/sequences.md)
# instead of the fixture set; see make_sequence.
SEQUENCE = None
if len(sys.argv) >= 4 and sys.argv[1] == "--sequence":
    SEQUENCE = {"frames": int(sys.argv[2]),
                "corrupt": int(sys.argv[5]) if len(sys.argv) == 6 and sys.argv[4] == "--corrupt" else None}
    sys.argv = [sys.argv[0], sys.argv[3]]
if len(sys.argv) != 2:
    fail("usage: media-fixtures.py OUTDIR | media-fixtures.py --sequence N OUTDIR [--corrupt I]")
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
for stale in os.listdir(OUT):          # temporaries of an interrupted run
    if stale.startswith("_"):
        os.remove(os.path.join(OUT, stale))
entries = []


def path(name):
    return os.path.join(OUT, name)


def entry(name, declared, kind, expect, tool, note, tolerance=None, optional=None):
    e = {"file": name, "declared": declared,
         "expect": {"kind": kind, "fileSize": os.path.getsize(path(name)), **expect}}
    if tolerance:
        e["tolerance"] = tolerance
    if optional:
        e["optional"] = optional
    e["tool"] = tool
    e["note"] = note
    entries.append(e)


def refusal(name, declared, code, tool, note):
    entries.append({"file": name, "declared": declared, "error": code, "tool": tool, "note": note})


def u16be(b, o):
    return struct.unpack(">H", b[o:o + 2])[0]


# --------------------------------------------------------------------------------------------
# Images (Pillow writes, Pillow reads back)
# --------------------------------------------------------------------------------------------

def pattern_rgb(w, h, seed):
    """A deterministic picture: gradients plus a little seeded noise (so JPEG/WebP sizes are real)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1))
    g = (y * 255 // max(h - 1, 1))
    b = ((x + y) * 7) % 256
    img = np.stack([r, g, b], axis=-1).astype(np.int16)
    img += rng.integers(-12, 13, size=img.shape, dtype=np.int16)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def jpeg_sof_offset(data):
    """Offset of the first SOFn marker, walking the marker segments from SOI."""
    check(data[:2] == b"\xff\xd8", "JPEG starts with SOI")
    o = 2
    while o < len(data):
        check(data[o] == 0xFF, f"JPEG marker at {o}")
        m = data[o + 1]
        if m in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            return o, m
        o += 2 + u16be(data, o + 2)
    fail("no SOF in JPEG")


def fake_icc(size):
    """An ICC-profile-shaped blob (valid 128-byte header, 'acsp', no tags) padded to `size` bytes.
    Pillow splits it over several APP2 segments (at most 65519 bytes of profile each)."""
    hdr = bytearray(128)
    struct.pack_into(">I", hdr, 0, size)
    hdr[4:8] = b"none"
    struct.pack_into(">I", hdr, 8, 0x02100000)
    hdr[12:16] = b"mntr"
    hdr[16:20] = b"RGB "
    hdr[20:24] = b"XYZ "
    hdr[36:40] = b"acsp"
    return bytes(hdr) + bytes(struct.pack(">I", 0)) + bytes(size - 132)


def read_image(name):
    with Image.open(path(name)) as im:
        return im.size, im.format, Image.MIME.get(im.format) or im.get_format_mimetype(), im


def image_entry(name, note, optional=None):
    with Image.open(path(name)) as im:
        (w, h), mime = im.size, im.get_format_mimetype()
        check(mime, f"Pillow knows a mime type for {name}")
    entry(name, "image", "image", {"mimeType": mime, "width": w, "height": h}, PILLOW, note,
          optional=optional)
    return w, h


def make_images():
    # JPEG baseline and progressive.
    pattern_rgb(321, 123, 1).save(path("image-baseline.jpg"), "JPEG", quality=85)
    _, m = jpeg_sof_offset(open(path("image-baseline.jpg"), "rb").read())
    check(m == 0xC0, "baseline JPEG has SOF0")
    image_entry("image-baseline.jpg", "JPEG baseline (SOF0), JFIF APP0, 4:2:0")

    pattern_rgb(257, 199, 2).save(path("image-progressive.jpg"), "JPEG", quality=80, progressive=True)
    _, m = jpeg_sof_offset(open(path("image-progressive.jpg"), "rb").read())
    check(m == 0xC2, "progressive JPEG has SOF2")
    image_entry("image-progressive.jpg", "JPEG progressive (SOF2)")

    # JPEG whose SOF is past 64 KiB: a 60 KB EXIF APP1 (one segment, MakerNote-style padding in
    # an UNDEFINED UserComment) plus a 20 KB ICC profile in an APP2.
    exif = Image.Exif()
    exif[0x010F] = "Registrar"          # Make
    exif[0x0110] = "fixture"            # Model
    exif[0x9286] = b"ASCII\0\0\0" + bytes(random.Random(7).getrandbits(8) for _ in range(60000))
    pattern_rgb(203, 157, 3).save(path("image-big-app-segments.jpg"), "JPEG", quality=85,
                                  exif=exif.tobytes(), icc_profile=fake_icc(20000))
    data = open(path("image-big-app-segments.jpg"), "rb").read()
    sof, m = jpeg_sof_offset(data)
    check(sof > 64 * KIB, f"big-APP JPEG has its SOF past 64 KiB (at {sof})")
    image_entry("image-big-app-segments.jpg",
                f"JPEG baseline with a ~60 KB EXIF APP1 and a 20 KB ICC APP2: SOF0 at byte {sof} (> 64 KiB)")

    # PNG: 8-bit RGB, 16-bit grayscale, Adam7 (Pillow cannot write interlaced PNG: ffmpeg's PNG
    # encoder does with -flags +ildct; Pillow reads it back and confirms the interlace flag).
    pattern_rgb(311, 97, 4).save(path("image-rgb8.png"), "PNG")
    image_entry("image-rgb8.png", "PNG 8-bit RGB (color type 2)")

    g16 = (np.add.outer(np.arange(71) * 900, np.arange(133) * 300) % 65536).astype(np.uint16)
    Image.fromarray(g16).save(path("image-gray16.png"), "PNG")
    with Image.open(path("image-gray16.png")) as im:
        check(im.mode.startswith("I"), "16-bit grayscale PNG reads back as a 16-bit mode")
    data = open(path("image-gray16.png"), "rb").read()
    check(data[24] == 16 and data[25] == 0, "gray16 PNG IHDR: bit depth 16, color type 0")
    image_entry("image-gray16.png", "PNG 16-bit grayscale (color type 0, bit depth 16)")

    src = path("_adam7-src.png")
    pattern_rgb(149, 61, 5).save(src, "PNG")
    run(["ffmpeg", "-v", "error", "-y", "-i", src, "-flags", "+ildct+bitexact", "-c:v", "png",
         "-pix_fmt", "rgb24", "-frames:v", "1", "-update", "1", path("image-adam7.png")])
    os.remove(src)
    with Image.open(path("image-adam7.png")) as im:
        check(im.info.get("interlace") == 1, "Adam7 PNG is interlaced")
    data = open(path("image-adam7.png"), "rb").read()
    check(data[28] == 1, "Adam7 PNG IHDR interlace method 1")
    image_entry("image-adam7.png", "PNG 8-bit RGB, Adam7 interlaced (written by ffmpeg's png encoder, read back by Pillow)")

    # GIF: two frames; the logical screen is the image size.
    f1 = pattern_rgb(173, 89, 6).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    f2 = pattern_rgb(173, 89, 7).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    f1.save(path("image-animated.gif"), "GIF", save_all=True, append_images=[f2], duration=100, loop=0)
    with Image.open(path("image-animated.gif")) as im:
        check(im.n_frames == 2, "GIF has 2 frames")
    image_entry("image-animated.gif", "GIF89a, 2 frames (NETSCAPE loop extension), 64-colour palette")

    # WebP: lossy (VP8), lossless (VP8L), lossy with alpha (VP8X + ALPH + VP8).
    check(features.check("webp"), "Pillow has WebP support")
    pattern_rgb(229, 131, 8).save(path("image-lossy.webp"), "WEBP", quality=75, method=4)
    check(open(path("image-lossy.webp"), "rb").read()[12:16] == b"VP8 ", "lossy WebP is simple VP8")
    image_entry("image-lossy.webp", "WebP lossy, simple format (RIFF/WEBP/'VP8 ')")

    pattern_rgb(187, 113, 9).save(path("image-lossless.webp"), "WEBP", lossless=True)
    check(open(path("image-lossless.webp"), "rb").read()[12:16] == b"VP8L", "lossless WebP is VP8L")
    image_entry("image-lossless.webp", "WebP lossless (RIFF/WEBP/'VP8L')")

    rgba = pattern_rgb(141, 77, 10).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((141, 77)))
    rgba.save(path("image-alpha.webp"), "WEBP", quality=70)
    check(open(path("image-alpha.webp"), "rb").read()[12:16] == b"VP8X", "alpha WebP is extended VP8X")
    image_entry("image-alpha.webp", "WebP lossy with alpha: extended format ('VP8X' canvas size, ALPH, 'VP8 ')")

    # BMP (BITMAPINFOHEADER, bottom-up, 24-bit).
    pattern_rgb(127, 63, 11).save(path("image.bmp"), "BMP")
    image_entry("image.bmp", "BMP, BITMAPINFOHEADER, 24-bit, bottom-up rows")

    # TIFF: little-endian (II) RGB; big-endian (MM) 16-bit grayscale (Pillow writes MM only for
    # mode I;16B); BigTIFF (II, version 43).
    # libtiff (deflate) writes the IFD after the strips: here past 64 KiB.
    pattern_rgb(223, 109, 12).save(path("image-le.tif"), "TIFF", compression="tiff_deflate")
    data = open(path("image-le.tif"), "rb").read()
    check(data[:4] == b"II*\0", "little-endian TIFF starts II*\\0")
    ifd = struct.unpack("<I", data[4:8])[0]
    check(ifd > 64 * KIB, f"little-endian TIFF has its IFD past 64 KiB (at {ifd})")
    image_entry("image-le.tif", f"TIFF little-endian ('II', 42), RGB, deflate (libtiff), the IFD after "
                f"the image data at byte {ifd} (> 64 KiB), ImageWidth/ImageLength as SHORT")

    be = Image.frombytes("I;16B", (83, 151), (np.arange(83 * 151, dtype=">u2") * 5).tobytes())
    be.save(path("image-be.tif"), "TIFF")
    data = open(path("image-be.tif"), "rb").read()
    check(data[:4] == b"MM\0*", "big-endian TIFF starts MM\\0*")
    ifd = struct.unpack(">I", data[4:8])[0]
    image_entry("image-be.tif", f"TIFF big-endian ('MM', 42), 16-bit grayscale, uncompressed, IFD at "
                f"byte {ifd}, ImageWidth/ImageLength as LONG")

    pattern_rgb(91, 67, 13).save(path("image-bigtiff.tif"), "TIFF", big_tiff=True)
    check(open(path("image-bigtiff.tif"), "rb").read()[:4] == b"II+\0", "BigTIFF starts II+\\0")
    image_entry("image-bigtiff.tif", "BigTIFF little-endian ('II', 43, 8-byte offsets), RGB, uncompressed")

    # Every image has distinct dimensions.
    dims = [(e["expect"]["width"], e["expect"]["height"]) for e in entries if e["declared"] == "image"]
    check(len(dims) == len(set(dims)), "image dimensions are distinct")


# --------------------------------------------------------------------------------------------
# Video and audio (ffmpeg writes, ffprobe reads back)
# --------------------------------------------------------------------------------------------

BITEXACT = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            "-map_metadata", "-1", "-threads", "1"]


def ffmpeg(args, out):
    run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args, *BITEXACT, path(out)])


def ffprobe(name):
    out = run(["ffprobe", "-v", "error", "-count_frames", "-print_format", "json",
               "-show_streams", "-show_format", path(name)])
    return json.loads(out)


def rate(s):
    n, d = (s.split("/") + ["1"])[:2]
    return float(n) / float(d) if float(d) else 0.0


def first_stream(info, codec_type):
    for s in info["streams"]:
        if s["codec_type"] == codec_type and not s.get("disposition", {}).get("attached_pic"):
            return s
    fail(f"no {codec_type} stream")


def mp4_top_boxes(name):
    """(type, offset, size) of the top-level ISO-BMFF boxes."""
    data = open(path(name), "rb").read()
    boxes, o = [], 0
    while o + 8 <= len(data):
        size, typ = struct.unpack(">I4s", data[o:o + 8])
        if size == 1:
            size = struct.unpack(">Q", data[o + 8:o + 16])[0]
        elif size == 0:
            size = len(data) - o
        boxes.append((typ.decode("latin-1"), o, size))
        o += size
    check(o == len(data), f"{name}: top-level boxes cover the file")
    return boxes


def video_entry(name, note, optional=None):
    info = ffprobe(name)
    v = first_stream(info, "video")
    fps = rate(v.get("avg_frame_rate", "0/0")) or rate(v["r_frame_rate"])
    check(abs(fps - rate(v["r_frame_rate"])) < FPS_TOL, f"{name}: avg and r frame rates agree")
    frames = int(v["nb_read_frames"])
    if v.get("nb_frames") not in (None, "N/A"):
        check(int(v["nb_frames"]) == frames, f"{name}: nb_frames == counted frames")
    expect = {"width": v["width"], "height": v["height"], "fps": round(fps, 6),
              "duration": float(info["format"]["duration"]), "frameCount": frames,
              "codec": v["codec_name"]}
    entry(name, "video", "video", expect, FFPROBE, note,
          tolerance={"duration": REL_DURATION, "fps": FPS_TOL}, optional=optional)
    return info


def audio_entry(name, note, bitdepth=None, optional=None, tolerance=None):
    info = ffprobe(name)
    a = first_stream(info, "audio")
    expect = {"sampleRate": int(a["sample_rate"]), "channels": a["channels"],
              "duration": float(info["format"]["duration"]), "codec": a["codec_name"]}
    if bitdepth:
        bits = int(a.get(bitdepth) or 0)
        check(bits > 0, f"{name}: ffprobe reports {bitdepth}")
        expect["bitDepth"] = bits
    entry(name, "audio", "audio", expect, FFPROBE, note,
          tolerance=tolerance or {"duration": REL_DURATION}, optional=optional)
    return info


def make_video():
    x264 = ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]

    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=96x64:rate=25", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=44100", "-t", "1", *x264,
            "-c:a", "aac", "-b:a", "32k", "-movflags", "+faststart"], "video-h264-faststart.mp4")
    boxes = [b[0] for b in mp4_top_boxes("video-h264-faststart.mp4")]
    check(boxes.index("moov") < boxes.index("mdat"), "faststart MP4 has moov before mdat")
    video_entry("video-h264-faststart.mp4",
                "MP4 (isom), H.264 + AAC audio, +faststart: ftyp, moov, mdat")

    # moov at the end, past 64 KiB: 29.97 fps, 2 s, noisy picture at a high bitrate.
    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x120:rate=30000/1001,noise=alls=30:allf=t",
            "-t", "2", *x264, "-b:v", "500k", "-maxrate", "500k", "-bufsize", "250k"],
           "video-h264-moov-at-end.mp4")
    boxes = mp4_top_boxes("video-h264-moov-at-end.mp4")
    moov = next(b for b in boxes if b[0] == "moov")
    check([b[0] for b in boxes].index("mdat") < [b[0] for b in boxes].index("moov"),
          "moov-at-end MP4 has mdat before moov")
    check(moov[1] > 64 * KIB, f"moov-at-end MP4 has moov past 64 KiB (at {moov[1]})")
    video_entry("video-h264-moov-at-end.mp4",
                f"MP4, H.264 only, 29.97 fps (30000/1001), moov at the end: moov box at byte {moov[1]} "
                f"(> 64 KiB), size {moov[2]}")

    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=128x72:rate=24", "-t", "2", *x264, "-g", "12",
            "-movflags", "+frag_keyframe+empty_moov+default_base_moof"], "video-fragmented.mp4")
    boxes = [b[0] for b in mp4_top_boxes("video-fragmented.mp4")]
    check(boxes.count("moof") >= 2, "fragmented MP4 has several moof boxes")
    data = open(path("video-fragmented.mp4"), "rb").read()
    mvhd = data.index(b"mvhd")
    check(data[mvhd + 4] == 0 and struct.unpack(">I", data[mvhd + 20:mvhd + 24])[0] == 0,
          "fragmented MP4: mvhd duration is 0")
    check(b"mehd" not in data, "fragmented MP4: no mehd")
    video_entry("video-fragmented.mp4",
                f"fragmented MP4: moov with mvhd duration 0, mvex/trex and no mehd, then "
                f"{boxes.count('moof')} moof+mdat pairs (keyframe every 12 frames), mfra at the end; "
                f"duration and frame count only from the trun boxes of every fragment",
                optional=["duration", "frameCount"])

    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=112x80:rate=15", "-t", "1", *x264, "-f", "mov"],
           "video-h264.mov")
    check(open(path("video-h264.mov"), "rb").read()[4:12] == b"ftypqt  ", "MOV has ftyp qt")
    video_entry("video-h264.mov", "QuickTime MOV (ftyp 'qt  '), H.264, 15 fps, moov at the end (small)")

    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=160x90:rate=30", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=48000", "-t", "1",
            "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "200k",
            "-c:a", "libopus", "-b:a", "32k"], "video-vp9.webm")
    check(open(path("video-vp9.webm"), "rb").read()[:4] == b"\x1a\x45\xdf\xa3", "WebM is EBML")
    video_entry("video-vp9.webm", "WebM (Matroska DocType webm), VP9 + Opus audio, 30 fps",
                optional=["frameCount"])

    ffmpeg(["-f", "lavfi", "-i", "testsrc=size=144x96:rate=25", "-f", "lavfi",
            "-i", "sine=frequency=440:sample_rate=44100", "-t", "1",
            "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
            "log-level=error:pools=none:frame-threads=1", "-pix_fmt", "yuv420p",
            "-c:a", "libvorbis", "-q:a", "1"], "video-hevc.mkv")
    video_entry("video-hevc.mkv", "Matroska (DocType matroska), HEVC + Vorbis audio, 25 fps",
                optional=["frameCount"])


def id3v2_size(name):
    data = open(path(name), "rb").read(10)
    check(data[:3] == b"ID3", f"{name} starts with an ID3v2 tag")
    s = data[6:10]
    return 10 + ((s[0] << 21) | (s[1] << 14) | (s[2] << 7) | s[3])


def make_audio():
    sine = ["-f", "lavfi", "-i"]

    ffmpeg([*sine, "sine=frequency=440:sample_rate=44100:duration=1", "-c:a", "pcm_s16le"],
           "audio-pcm16-mono.wav")
    audio_entry("audio-pcm16-mono.wav", "WAV, WAVE_FORMAT_PCM (fmt tag 1), 16-bit mono 44.1 kHz, 1 s",
                bitdepth="bits_per_sample")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=48000:duration=0.125", "-ac", "6",
            "-c:a", "pcm_s24le"], "audio-pcm24-6ch.wav")
    data = open(path("audio-pcm24-6ch.wav"), "rb").read(64)
    fmt = data.index(b"fmt ")
    check(struct.unpack("<H", data[fmt + 8:fmt + 10])[0] == 0xFFFE, "6-channel WAV is WAVE_FORMAT_EXTENSIBLE")
    audio_entry("audio-pcm24-6ch.wav",
                "WAV, WAVE_FORMAT_EXTENSIBLE (fmt tag 0xFFFE, PCM subformat), 24-bit, 6 channels (5.1), 48 kHz, 0.125 s",
                bitdepth="bits_per_sample")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2",
            "-c:a", "libmp3lame", "-b:a", "128k", "-write_xing", "0", "-id3v2_version", "0"],
           "audio-mp3-cbr.mp3")
    head = open(path("audio-mp3-cbr.mp3"), "rb").read(4096)
    check(head[:2] == b"\xff\xfb" and b"Xing" not in head and b"Info" not in head,
          "CBR MP3 starts with a frame sync and has no Xing/Info header")
    audio_entry("audio-mp3-cbr.mp3",
                "MP3 CBR 128 kb/s stereo 44.1 kHz, no ID3 tag, no Xing/Info frame (duration from bitrate and size), 2 s")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=48000:duration=2", "-ac", "2",
            "-c:a", "libmp3lame", "-q:a", "4"], "audio-mp3-vbr-xing.mp3")
    head = open(path("audio-mp3-vbr-xing.mp3"), "rb").read(4096)
    check(b"Xing" in head, "VBR MP3 has a Xing header")
    audio_entry("audio-mp3-vbr-xing.mp3",
                "MP3 VBR (-q:a 4) stereo 48 kHz, small ID3v2.4 tag, Xing + LAME header in the first frame, 2 s")

    # MP3 with a large ID3v2.3 tag: a ~70 KB PNG cover (incompressible noise) in an APIC frame.
    rng = np.random.default_rng(14)
    Image.fromarray(rng.integers(0, 256, size=(150, 155, 3), dtype=np.uint8), "RGB").save(
        path("_cover.png"), "PNG")
    ffmpeg([*sine, "sine=frequency=440:sample_rate=22050:duration=2", "-i", path("_cover.png"),
            "-map", "0:a", "-map", "1:v", "-c:a", "libmp3lame", "-b:a", "64k", "-c:v", "copy",
            "-id3v2_version", "3", "-metadata:s:v", "title=Album cover",
            "-metadata:s:v", "comment=Cover (front)", "-disposition:v", "attached_pic"],
           "audio-mp3-id3-cover.mp3")
    os.remove(path("_cover.png"))
    tag = id3v2_size("audio-mp3-id3-cover.mp3")
    check(tag > 64 * KIB, f"ID3v2 tag is larger than 64 KiB ({tag})")
    audio_entry("audio-mp3-id3-cover.mp3",
                f"MP3 CBR 64 kb/s mono 22.05 kHz, ID3v2.3 tag of {tag} bytes (APIC ~70 KB PNG cover): "
                "first MPEG frame past 64 KiB; ffprobe also lists the cover as a png video stream "
                "(attached_pic), 2 s")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=48000:duration=2", "-ac", "2",
            "-c:a", "flac", "-sample_fmt", "s32"], "audio-24bit.flac")
    audio_entry("audio-24bit.flac", "FLAC 24-bit stereo 48 kHz (STREAMINFO), 2 s",
                bitdepth="bits_per_raw_sample")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2",
            "-c:a", "libvorbis", "-q:a", "2"], "audio-vorbis.ogg")
    audio_entry("audio-vorbis.ogg", "Ogg Vorbis stereo 44.1 kHz, 2 s")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=16000:duration=2", "-c:a", "libopus",
            "-b:a", "24k"], "audio-opus.opus")
    data = open(path("audio-opus.opus"), "rb").read(200)
    oh = data.index(b"OpusHead")
    input_rate = struct.unpack("<I", data[oh + 12:oh + 16])[0]
    audio_entry("audio-opus.opus",
                f"Ogg Opus mono; OpusHead input_sample_rate {input_rate} Hz but Opus always decodes at "
                "48 kHz, which is what ffprobe reports (expect 48000); pre-skip 312, 2 s")

    ffmpeg([*sine, "sine=frequency=440:sample_rate=44100:duration=2", "-ac", "2",
            "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"], "audio-aac.m4a")
    audio_entry("audio-aac.m4a", "M4A (MP4, ftyp M4A ), AAC-LC stereo 44.1 kHz, moov first, 2 s")


# --------------------------------------------------------------------------------------------
# PDF (reportlab + qpdf + a hand-made incremental update; pdfinfo reads back)
# --------------------------------------------------------------------------------------------

def reportlab_pdf(name, pages, size=A4):
    c = canvas.Canvas(path(name), pagesize=size, invariant=1)
    for i in range(pages):
        c.setFont("Helvetica", 18)
        c.drawString(72, size[1] - 96, f"Registrar fixture {name}: page {i + 1} of {pages}")
        c.rect(72, 72, 100 + 20 * i, 50)
        c.showPage()
    c.save()


def pdfinfo(name):
    out = run(["pdfinfo", path(name)]).decode("utf-8", "replace")
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k.strip(): v.strip() for k, v in fields.items()}


def pdf_entry(name, note):
    info = pdfinfo(name)
    run(["qpdf", "--check", path(name)])
    entry(name, "pdf", "pdf", {"mimeType": "application/pdf", "numPages": int(info["Pages"])},
          PDFINFO, note)
    return info


def append_page_incrementally(name):
    """Append an incremental update that adds one page: a new content stream and page object,
    and a new version of the /Pages object (same object number) with the extra kid and /Count+1,
    then a classic xref section for just those objects and a trailer with /Prev."""
    data = open(path(name), "rb").read()
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    trailer = data[data.rindex(b"trailer"):]
    size = int(re.search(rb"/Size (\d+)", trailer).group(1))
    root = re.search(rb"/Root (\d+) 0 R", trailer).group(1)
    m = re.search(rb"\n(\d+) 0 obj\s*<<((?:(?!endobj).)*?/Type /Pages(?:(?!endobj).)*?)>>\s*endobj",
                  data, re.S)
    check(m, "found the /Pages object")
    pages_num, pages_dict = int(m.group(1)), m.group(2)
    kids = re.search(rb"/Kids \[([^\]]*)\]", pages_dict).group(1).strip()
    count = int(re.search(rb"/Count (\d+)", pages_dict).group(1))
    first_kid = re.match(rb"(\d+) 0 R", kids).group(1)
    page0 = re.search(rb"\n" + first_kid + rb" 0 obj\s*<<(.*?)>>\s*endobj", data, re.S).group(1)
    resources = re.search(rb"/Resources (\d+ 0 R)", page0)
    mediabox = re.search(rb"/MediaBox \[[^\]]*\]", page0).group(0)

    content_num, page_num = size, size + 1
    stream = b"BT /F1 18 Tf 72 700 Td (Page added by an incremental update) Tj ET"
    if resources:
        res = b"/Resources " + resources.group(1)
    else:
        res = b"/Resources << >>"
    objs = {
        content_num: b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        page_num: b"<< /Type /Page /Parent %d 0 R %s %s /Contents %d 0 R >>"
                  % (pages_num, mediabox, res, content_num),
        pages_num: b"<< /Type /Pages /Kids [ %s %d 0 R ] /Count %d >>" % (kids, page_num, count + 1),
    }
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets = {}
    for num in sorted(objs):
        offsets[num] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (num, objs[num])
    xref = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(objs):
        out += b"%d 1\n%010d 00000 n \n" % (num, offsets[num])
    out += (b"trailer\n<< /Size %d /Root %s 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
            % (size + 2, root, startxref, xref))
    open(path(name), "wb").write(bytes(out))
    return count, count + 1


def make_pdfs():
    reportlab_pdf("pdf-3-pages.pdf", 3)
    pdf_entry("pdf-3-pages.pdf", "PDF 1.4 by reportlab, classic xref table, 3 pages (A4)")

    reportlab_pdf("pdf-5-pages.pdf", 5, letter)
    pdf_entry("pdf-5-pages.pdf", "PDF 1.4 by reportlab, classic xref table, 5 pages (Letter)")

    reportlab_pdf("_objstm-src.pdf", 7)
    run(["qpdf", "--deterministic-id", "--object-streams=generate", path("_objstm-src.pdf"),
         path("pdf-7-pages-objstm.pdf")])
    os.remove(path("_objstm-src.pdf"))
    data = open(path("pdf-7-pages-objstm.pdf"), "rb").read()
    check(b"/Type /XRef" in data and b"/Type /ObjStm" in data and b"\ntrailer" not in data,
          "object-stream PDF has an xref stream and object streams, no trailer keyword")
    pdf_entry("pdf-7-pages-objstm.pdf",
              "PDF 1.5 by qpdf --object-streams=generate: cross-reference stream, the page tree "
              "inside compressed object streams (no plain /Count in the file), 7 pages")
    check(b"/Count 7" not in data, "objstm PDF hides /Count in an object stream")

    reportlab_pdf("_lin-src.pdf", 4)
    run(["qpdf", "--deterministic-id", "--linearize", path("_lin-src.pdf"),
         path("pdf-4-pages-linearized.pdf")])
    os.remove(path("_lin-src.pdf"))
    info = pdfinfo("pdf-4-pages-linearized.pdf")
    check(info.get("Optimized") == "yes", "pdfinfo says the linearized PDF is optimized")
    pdf_entry("pdf-4-pages-linearized.pdf",
              "PDF linearized by qpdf --linearize (linearization dict, first-page xref at the start, "
              "hint stream), 4 pages")

    reportlab_pdf("pdf-incremental.pdf", 2)
    before, after = append_page_incrementally("pdf-incremental.pdf")
    data = open(path("pdf-incremental.pdf"), "rb").read()
    check(data.count(b"%%EOF") == 2, "incremental PDF has two %%EOF")
    info = pdf_entry("pdf-incremental.pdf",
                     f"PDF by reportlab ({before} pages) plus a hand-written incremental update "
                     f"that appends a new /Pages version with {after} kids, a classic xref section "
                     f"and a trailer with /Prev: the first /Count in the file says {before}, "
                     f"the last says {after}")
    check(int(info["Pages"]) == after, "pdfinfo follows the incremental update")


# --------------------------------------------------------------------------------------------
# Text (inputs we define: kind and mimeType are decided here, from what we write)
# --------------------------------------------------------------------------------------------

def make_text():
    texts = [
        ("text-utf8.txt", "text/plain",
         "Registrar fixture — UTF-8 with non-ASCII: Zürich, naïve café, Øresund, "
         "日本語のテキスト, Ελληνικά, emoji 🙂.\nSecond line.\n",
         "UTF-8 plain text, no BOM, 2-, 3- and 4-byte sequences"),
        ("text-ascii.txt", "text/plain",
         "Registrar fixture: plain ASCII text.\nLine two, with punctuation: ()[]{}<>!?\n",
         "7-bit ASCII plain text, LF line endings"),
        ("text-table.csv", "text/csv",
         "id,name,score\r\n1,alpha,0.5\r\n2,\"beta, the second\",1.25\r\n3,gamma,2\r\n",
         "CSV with a header row, CRLF line endings, one quoted field"),
        ("text-page.html", "text/html",
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Fixture</title></head>\n"
         "<body><p>Registrar fixture page.</p></body>\n</html>\n",
         "HTML5 document starting with <!DOCTYPE html>"),
        ("text-data.xml", "application/xml",
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<fixture name=\"registrar\">\n"
         "  <item id=\"1\">one</item>\n  <item id=\"2\">two</item>\n</fixture>\n",
         "XML document with an XML declaration"),
        ("text-data.json", "application/json",
         json.dumps({"fixture": "registrar", "items": [1, 2, 3], "nested": {"ok": True}}, indent=2) + "\n",
         "JSON object, pretty-printed"),
    ]
    for name, mime, text, note in texts:
        open(path(name), "w", encoding="utf-8", newline="").write(text)
        entry(name, "text", "text", {"mimeType": mime}, "(defined by the generator)", note)


# --------------------------------------------------------------------------------------------
# DICOM (pydicom writes, pydicom.dcmread reads back)
# --------------------------------------------------------------------------------------------

def uid(*parts):
    return generate_uid(entropy_srcs=["registrar-media-fixtures", *parts])


def dicom_dataset(name, modality, rows, cols, instance, transfer_syntax, patient_id=True,
                  frames=None, sop_class="1.2.840.10008.5.1.4.1.1.2"):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = uid(name, "sop")
    meta.TransferSyntaxUID = transfer_syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyDate = "20240102"
    ds.Modality = modality
    ds.PatientName = "Fixture^Registrar"
    if patient_id:
        ds.PatientID = "REG-0001"
    ds.StudyInstanceUID = uid("study")            # one study for all DICOM fixtures
    ds.SeriesInstanceUID = uid(name, "series")
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    n = frames or 1
    if frames:
        ds.NumberOfFrames = frames
    ds.PixelData = (np.arange(rows * cols * n, dtype="<u2") % 4096).tobytes()
    return ds


def write_dicom(name, ds):
    ds.save_as(path(name), enforce_file_format=True)


def dicom_entry(name, note, check_ts):
    ds = pydicom.dcmread(path(name))
    check(ds.file_meta.TransferSyntaxUID == check_ts, f"{name}: transfer syntax {check_ts}")
    expect = {"dicom": {"studyInstanceUid": str(ds.StudyInstanceUID),
                        "seriesInstanceUid": str(ds.SeriesInstanceUID),
                        "sopInstanceUid": str(ds.SOPInstanceUID),
                        "modality": str(ds.Modality),
                        "rows": int(ds.Rows), "columns": int(ds.Columns),
                        "instanceNumber": int(ds.InstanceNumber)}}
    optional = None
    if "NumberOfFrames" in ds:
        expect["frameCount"] = int(ds.NumberOfFrames)
        optional = ["frameCount"]
    entry(name, "dicom_series", "dicom", expect, PYDICOM, note, optional=optional)
    return ds


def referenced_sequence(undefined):
    """ReferencedImageSequence value: 2 items, each with a nested one-item code sequence; with
    `undefined`, every sequence and item has undefined length (item / sequence delimiters)."""
    items = []
    for i in range(2):
        item = Dataset()
        item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        item.ReferencedSOPInstanceUID = uid("referenced", str(i))
        inner = Dataset()
        inner.CodeValue = "T-D0050"
        inner.CodingSchemeDesignator = "SRT"
        inner.CodeMeaning = "Tissue"
        inner.is_undefined_length_sequence_item = undefined
        item.PurposeOfReferenceCodeSequence = Sequence([inner])
        item["PurposeOfReferenceCodeSequence"].is_undefined_length = undefined
        item.is_undefined_length_sequence_item = undefined
        items.append(item)
    return Sequence(items)


def make_dicom():
    ds = dicom_dataset("dicom-ct-explicit.dcm", "CT", 6, 9, 1, ExplicitVRLittleEndian)
    write_dicom("dicom-ct-explicit.dcm", ds)
    dicom_entry("dicom-ct-explicit.dcm",
                "DICOM Part 10 (preamble + DICM + group 2), Explicit VR Little Endian, CT, PatientID present, 6x9 16-bit",
                ExplicitVRLittleEndian)

    ds = dicom_dataset("dicom-mr-implicit.dcm", "MR", 5, 7, 2, ImplicitVRLittleEndian,
                       patient_id=False, sop_class="1.2.840.10008.5.1.4.1.1.4")
    write_dicom("dicom-mr-implicit.dcm", ds)
    back = dicom_entry("dicom-mr-implicit.dcm",
                       "DICOM Implicit VR Little Endian dataset (file meta explicit, as required), MR, "
                       "no PatientID element, 5x7", ImplicitVRLittleEndian)
    check("PatientID" not in back, "implicit DICOM has no PatientID")

    # ReferencedImageSequence (0008,1140) sits before the UIDs and Rows/Columns.
    for name, ts, label, undefined, instance in [
            ("dicom-sequence-explicit.dcm", ExplicitVRLittleEndian, "Explicit", True, 3),
            ("dicom-sequence-implicit.dcm", ImplicitVRLittleEndian, "Implicit", False, 4)]:
        ds = dicom_dataset(name, "CT", 4, 3, instance, ts)
        ds.ReferencedImageSequence = referenced_sequence(undefined)
        ds["ReferencedImageSequence"].is_undefined_length = undefined
        write_dicom(name, ds)
        raw = open(path(name), "rb").read()
        delimiters = b"\xfe\xff\xdd\xe0" in raw and b"\xfe\xff\x0d\xe0" in raw
        check(delimiters == undefined, f"{name}: sequence delimiters present == {undefined}")
        lengths = ("undefined lengths (FFFFFFFF) closed by item and sequence delimitation items"
                   if undefined else "explicit (defined) lengths, no delimiters")
        dicom_entry(name,
                    f"DICOM {label} VR Little Endian with ReferencedImageSequence (0008,1140) before "
                    f"the UIDs: 2 items, each with a nested one-item code sequence; {lengths}", ts)

    ds = dicom_dataset("dicom-us-multiframe.dcm", "US", 8, 10, 5, ExplicitVRLittleEndian, frames=4,
                       sop_class="1.2.840.10008.5.1.4.1.1.3.1")
    ds.FrameIncrementPointer = (0x0018, 0x1063)
    ds.FrameTime = "40"
    write_dicom("dicom-us-multiframe.dcm", ds)
    dicom_entry("dicom-us-multiframe.dcm",
                "DICOM Explicit VR LE, US multi-frame, NumberOfFrames 4 (IS), 8x10 per frame",
                ExplicitVRLittleEndian)

    ds = dicom_dataset("dicom-ct-big-private.dcm", "CT", 7, 5, 6, ExplicitVRLittleEndian)
    ds.add_new(0x00090010, "LO", "REGISTRAR FIXTURE")
    ds.add_new(0x00091010, "OB", bytes(random.Random(15).getrandbits(8) for _ in range(70000)))
    write_dicom("dicom-ct-big-private.dcm", ds)
    raw = open(path("dicom-ct-big-private.dcm"), "rb").read()
    rows_at = raw.index(b"\x28\x00\x10\x00US")
    check(rows_at > 64 * KIB, f"big-private DICOM has Rows past 64 KiB (at {rows_at})")
    dicom_entry("dicom-ct-big-private.dcm",
                f"DICOM Explicit VR LE, CT, a 70,000-byte private OB element (0009,1010): the UIDs "
                f"(0020,000D..) and Rows (0028,0010, at byte {rows_at}) are past 64 KiB",
                ExplicitVRLittleEndian)


# --------------------------------------------------------------------------------------------
# NIfTI (nibabel writes, nibabel reads back)
# --------------------------------------------------------------------------------------------

def nifti_entry(name, note):
    img = nib.load(path(name))
    h = img.header
    n = int(h["dim"][0])
    dims = [int(d) for d in h["dim"][1:n + 1]]
    pixdim = [round(float(p), 6) for p in h["pixdim"][1:n + 1]]
    check(dims == list(img.shape), f"{name}: dims match the data shape")
    entry(name, "nifti", "nifti", {"nifti": {"dims": dims, "pixdim": pixdim}}, NIBABEL, note,
          tolerance={"pixdim": 1e-5})
    return h


def make_nifti():
    affine = np.diag([1.5, 2.0, 2.5, 1.0])
    data = (np.arange(7 * 9 * 5) % 100).astype(np.int16).reshape(7, 9, 5)
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms((1.5, 2.0, 2.5))
    nib.save(img, path("nifti1-3d.nii"))
    check(open(path("nifti1-3d.nii"), "rb").read()[344:348] == b"n+1\0", "NIfTI-1 magic n+1")
    nifti_entry("nifti1-3d.nii", "NIfTI-1 single file (.nii, 348-byte header, magic n+1), int16, 7x9x5")

    data4 = (np.arange(6 * 5 * 4 * 3) % 50).astype(np.float32).reshape(6, 5, 4, 3)
    img = nib.Nifti1Image(data4, np.diag([1.0, 1.25, 3.0, 1.0]))
    img.header.set_zooms((1.0, 1.25, 3.0, 2.0))
    img.header.set_xyzt_units("mm", "sec")
    nib.save(img, path("_nifti1-4d.nii"))
    raw = open(path("_nifti1-4d.nii"), "rb").read()
    os.remove(path("_nifti1-4d.nii"))
    with open(path("nifti1-4d.nii.gz"), "wb") as f:   # gzip with mtime 0: deterministic
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=6) as gz:
            gz.write(raw)
    nifti_entry("nifti1-4d.nii.gz",
                "NIfTI-1 gzip-compressed (.nii.gz), float32, 6x5x4x3 time series (TR 2 s, pixdim[4])")

    data2 = (np.arange(11 * 3 * 2) % 7).astype(np.uint8).reshape(11, 3, 2)
    img = nib.Nifti2Image(data2, np.diag([0.5, 0.75, 4.0, 1.0]))
    img.header.set_zooms((0.5, 0.75, 4.0))
    nib.save(img, path("nifti2-3d.nii"))
    raw = open(path("nifti2-3d.nii"), "rb").read(8)
    check(struct.unpack("<i", raw[:4])[0] == 540 and raw[4:8] == b"n+2\0", "NIfTI-2 header 540, magic n+2")
    nifti_entry("nifti2-3d.nii", "NIfTI-2 single file (.nii, 540-byte header, magic n+2, int64 dims), uint8, 11x3x2")


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------

def make_refusals():
    open(path("refuse-empty.jpg"), "wb").close()
    refusal("refuse-empty.jpg", "image", "empty_object", "(defined by the generator)",
            "zero-byte file declared as an image")

    src = open(path("image-rgb8.png"), "rb").read()
    open(path("refuse-png-declared-video.png"), "wb").write(src)
    refusal("refuse-png-declared-video.png", "video", "type_mismatch", PILLOW,
            "a valid PNG (copy of image-rgb8.png) declared as video")

    open(path("refuse-truncated.png"), "wb").write(src[:20])
    try:
        Image.open(path("refuse-truncated.png")).load()
        fail("Pillow accepted the truncated PNG")
    except Exception:
        pass
    refusal("refuse-truncated.png", "image", "corrupt", PILLOW,
            "the first 20 bytes of a PNG: signature, IHDR length and type, width; the height and CRC "
            "are cut off (Pillow refuses it)")

    rnd = random.Random(16)
    data = bytes(rnd.getrandbits(8) for _ in range(4096))
    check(data[:2] not in (b"\xff\xd8", b"BM", b"II", b"MM") and data[:4] not in (b"\x89PNG", b"RIFF", b"GIF8"),
          "random bytes do not start with an image magic")
    try:
        data.decode("utf-8")
        fail("random bytes are valid UTF-8")
    except UnicodeDecodeError:
        pass
    open(path("refuse-random.bin"), "wb").write(data)
    try:
        Image.open(path("refuse-random.bin"))
        fail("Pillow identified the random bytes")
    except Exception:
        pass
    refusal("refuse-random.bin", "image", "unsupported_type", PILLOW,
            "4096 seeded random bytes (not valid UTF-8, no known magic; Pillow cannot identify them)")

    big = bytearray(src)
    check(big[12:16] == b"IHDR", "IHDR is the first chunk")
    struct.pack_into(">II", big, 16, 200000, 200000)
    struct.pack_into(">I", big, 29, zlib.crc32(bytes(big[12:29])) & 0xFFFFFFFF)
    open(path("refuse-huge-dimensions.png"), "wb").write(big)
    try:
        Image.open(path("refuse-huge-dimensions.png"))
        fail("Pillow accepted 200000x200000")
    except Image.DecompressionBombError:
        pass
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
    with Image.open(path("refuse-huge-dimensions.png")) as im:   # the CRC is checked on open
        check(im.size == (200000, 200000), "patched IHDR reads back as 200000x200000")
    Image.MAX_IMAGE_PIXELS = saved
    refusal("refuse-huge-dimensions.png", "image", "dimensions_exceed_limit", PILLOW,
            "image-rgb8.png with IHDR width and height patched to 200000x200000 and the IHDR CRC "
            "recomputed (Pillow: valid CRC, DecompressionBombError)")


# --------------------------------------------------------------------------------------------

def main():
    t0 = time.monotonic()
    families = [("images", make_images), ("video", make_video), ("audio", make_audio),
                ("pdf", make_pdfs), ("text", make_text), ("dicom", make_dicom),
                ("nifti", make_nifti), ("refusals", make_refusals)]
    for family, fn in families:
        t, n = time.monotonic(), len(entries)
        fn()
        made = entries[n:]
        size = sum(os.path.getsize(path(e["file"])) for e in made)
        print(f"{family}: {len(made)} files, {size / 1000:.1f} KB, {time.monotonic() - t:.1f} s",
              flush=True)

    names = [e["file"] for e in entries]
    check(len(names) == len(set(names)), "file names are unique")
    total = 0
    for name in names:
        size = os.path.getsize(path(name))
        check(size < MAX_FILE, f"{name} is {size} bytes (limit {MAX_FILE})")
        total += size
    check(total < MAX_TOTAL, f"total {total} bytes (limit {MAX_TOTAL})")
    leftovers = [f for f in os.listdir(OUT) if f.startswith("_")]
    check(not leftovers, f"no temporary files left: {leftovers}")
    with open(path("expected.json"), "w") as f:
        json.dump(entries, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"expected.json: {len(entries)} entries, {total / 1000:.1f} KB of fixtures, "
          f"{time.monotonic() - t0:.1f} s")


# --------------------------------------------------------------------------------------------
# Image sequence frames (--sequence)
# --------------------------------------------------------------------------------------------

SEQUENCE_SIZES = [(320, 240), (640, 480), (160, 120), (400, 300), (321, 241), (200, 360)]


def make_sequence(n, corrupt):
    """N JPEG frames, frame-00000.jpg …, of varying sizes (frame 0 is 321x241: odd, so the video
    is 320x240; the others cycle through SEQUENCE_SIZES, so every frame after the first is
    scaled), each a different seeded picture. With `corrupt`, that frame's bytes are not an image.
    Writes OUTDIR/sequence.json: {"frames": [names], "sizes": [[w, h]...], "corrupt": I|null},
    sizes as Pillow reads them back."""
    names, sizes = [], []
    for i in range(n):
        name = f"frame-{i:05d}.jpg"
        w, h = (321, 241) if i == 0 else SEQUENCE_SIZES[i % len(SEQUENCE_SIZES)]
        if i == corrupt:
            with open(path(name), "wb") as f:
                f.write(b"not an image: a corrupt frame of the sequence\n" * 8)
            sizes.append(None)
        else:
            pattern_rgb(w, h, 1000 + i).save(path(name), "JPEG", quality=80)
            with Image.open(path(name)) as im:
                check(im.size == (w, h), f"{name} is {w}x{h}")
                sizes.append(list(im.size))
        names.append(name)
    with open(path("sequence.json"), "w") as f:
        json.dump({"frames": names, "sizes": sizes, "corrupt": corrupt}, f)
        f.write("\n")
    print(f"sequence: {n} frames in {OUT}", flush=True)


if SEQUENCE:
    make_sequence(SEQUENCE["frames"], SEQUENCE["corrupt"])
else:
    main()
