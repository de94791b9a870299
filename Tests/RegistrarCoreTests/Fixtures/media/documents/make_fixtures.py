#!/usr/bin/env python3
"""Regenerates the document fixtures in this folder (run once; the outputs are committed).

Needs: pip install pypdf reportlab pydicom nibabel numpy pillow; apt-get install qpdf.
Everything is seeded, but PDF writers embed dates and IDs, so re-running changes bytes (not the
expected values listed in README.md).
"""
import gzip
import io
import json
import os
import random
import struct
import subprocess
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def out(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- PDF

def pdfs():
    from reportlab.pdfgen import canvas
    from reportlab.lib.utils import ImageReader
    from PIL import Image
    from pypdf import PdfReader, PdfWriter

    def simple(path, pages):
        c = canvas.Canvas(path, pageCompression=0)
        for i in range(pages):
            c.drawString(100, 700, f"Page {i + 1} of {pages}")
            c.showPage()
        c.save()

    # 1. classic xref table, 3 pages
    simple(out("pdf-classic-3p.pdf"), 3)
    # 2. xref stream + object streams, 5 pages
    simple("/tmp/five.pdf", 5)
    subprocess.run(["qpdf", "--object-streams=generate", "/tmp/five.pdf", out("pdf-objstm-5p.pdf")], check=True)
    # 3. linearized, 4 pages
    simple("/tmp/four.pdf", 4)
    subprocess.run(["qpdf", "--linearize", "/tmp/four.pdf", out("pdf-linearized-4p.pdf")], check=True)
    # 4. incremental update of a classic 2-page file adding a third page: the newest trailer wins
    simple("/tmp/two.pdf", 2)
    w = PdfWriter("/tmp/two.pdf", incremental=True)
    w.add_blank_page(width=612, height=792)
    with open(out("pdf-incremental-3p.pdf"), "wb") as f:
        w.write(f)
    # 5. linearized (4 pages) then updated incrementally (+1 page): /L no longer matches, so the
    #    linearization /N (4) is stale and the xref chain must be followed (5)
    w = PdfWriter(out("pdf-linearized-4p.pdf"), incremental=True)
    w.add_blank_page(width=612, height=792)
    with open(out("pdf-linearized-updated-5p.pdf"), "wb") as f:
        w.write(f)
    # 6. > 64 KiB, catalog and page tree early (after a 20 KB image), big page contents after:
    #    outside the tail, and outside the head when the head is small
    rnd = random.Random(42)
    img = Image.frombytes("RGB", (80, 80), bytes(rnd.getrandbits(8) for _ in range(80 * 80 * 3)))
    c = canvas.Canvas(out("pdf-large-4p.pdf"), pageCompression=0)
    for i in range(4):
        c.drawImage(ImageReader(img), 50, 50, 80, 80)
        for line in range(330):
            c.drawString(30, 10 + (line % 80) * 10, "".join(rnd.choice("abcdefghij klmnop") for _ in range(20)))
        c.showPage()
    c.save()
    # 7. object streams and > 64 KiB: qpdf puts the xref stream at the end, objects in streams
    subprocess.run(["qpdf", "--object-streams=generate", "--compress-streams=n", out("pdf-large-4p.pdf"),
                    out("pdf-large-objstm-4p.pdf")],
                   check=True)
    # 8. encrypted (AES-256, empty user password): plain objects still give /Count; compressed
    #    objects are encrypted inside their object stream, so that one is unsupported
    subprocess.run(["qpdf", "--encrypt", "", "owner", "256", "--", "--object-streams=disable",
                    out("pdf-classic-3p.pdf"), out("pdf-encrypted-3p.pdf")], check=True)
    subprocess.run(["qpdf", "--encrypt", "", "owner", "256", "--", "--object-streams=generate",
                    out("pdf-classic-3p.pdf"), out("pdf-encrypted-objstm-3p.pdf")], check=True)
    for name in ["pdf-encrypted-3p.pdf", "pdf-encrypted-objstm-3p.pdf", "pdf-classic-3p.pdf", "pdf-objstm-5p.pdf", "pdf-linearized-4p.pdf", "pdf-incremental-3p.pdf",
                 "pdf-linearized-updated-5p.pdf", "pdf-large-4p.pdf", "pdf-large-objstm-4p.pdf"]:
        print(name, len(PdfReader(out(name)).pages), "pages", os.path.getsize(out(name)), "bytes")


# ---------------------------------------------------------------- DICOM

def dicoms():
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian,
                             DeflatedExplicitVRLittleEndian)

    def make(path, ts, *, rows, cols, frames=None, patient_id="PAT-0001", modality="CT", instance=7,
             sequence="defined", big_private=0, suffix="1"):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.1{suffix}"
        meta.TransferSyntaxUID = ts
        meta.ImplementationClassUID = "1.2.826.0.1.3680043.8.498.99"
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = modality
        ds.PatientName = "Test^Fixture"
        if patient_id is not None:
            ds.PatientID = patient_id
        if sequence:
            item1 = Dataset()
            item1.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item1.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.8.498.555"
            inner = Dataset()
            inner.CodeValue = "T-D0050"
            inner.CodingSchemeDesignator = "SRT"
            item1.PurposeOfReferenceCodeSequence = Sequence([inner])
            item2 = Dataset()
            item2.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item2.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.8.498.556"
            ds.ReferencedImageSequence = Sequence([item1, item2])
            undefined = sequence == "undefined"
            ds["ReferencedImageSequence"].is_undefined_length = undefined
            for it in ds.ReferencedImageSequence:
                it.is_undefined_length_sequence_item = undefined
            item1["PurposeOfReferenceCodeSequence"].is_undefined_length = undefined
            inner.is_undefined_length_sequence_item = undefined
        if big_private:
            ds.add_new(0x00090010, "LO", "FIXTURE")
            ds.add_new(0x00091010, "OB", bytes(random.Random(7).getrandbits(8) for _ in range(big_private)))
        ds.StudyInstanceUID = f"1.2.826.0.1.3680043.8.498.2{suffix}"
        ds.SeriesInstanceUID = f"1.2.826.0.1.3680043.8.498.3{suffix}"
        ds.InstanceNumber = instance
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = rows
        ds.Columns = cols
        if frames is not None:
            ds.NumberOfFrames = frames
        ds.BitsAllocated = 8
        ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        n = rows * cols * (frames or 1)
        ds.PixelData = np.arange(n, dtype=np.uint8).tobytes()
        little = ts != ExplicitVRBigEndian
        implicit = ts == ImplicitVRLittleEndian
        ds.save_as(path, enforce_file_format=True, little_endian=little, implicit_vr=implicit)

    make(out("dicom-explicit-le.dcm"), ExplicitVRLittleEndian, rows=4, cols=6, sequence="defined", suffix="1")
    make(out("dicom-implicit-le.dcm"), ImplicitVRLittleEndian, rows=5, cols=3, modality="MR", instance=12,
         patient_id=None, sequence="undefined", suffix="2")
    make(out("dicom-explicit-undefined-seq.dcm"), ExplicitVRLittleEndian, rows=2, cols=2, modality="US",
         instance=3, sequence="undefined", suffix="3")
    make(out("dicom-multiframe.dcm"), ExplicitVRLittleEndian, rows=4, cols=4, frames=3, modality="XA",
         instance=1, sequence=None, suffix="4")
    make(out("dicom-big-endian.dcm"), ExplicitVRBigEndian, rows=3, cols=2, modality="CR", instance=2,
         sequence="undefined", suffix="5")
    make(out("dicom-deflated.dcm"), DeflatedExplicitVRLittleEndian, rows=2, cols=2, sequence=None, suffix="6")
    make(out("dicom-big-private.dcm"), ExplicitVRLittleEndian, rows=8, cols=8, modality="OT", instance=42,
         sequence="undefined", big_private=80_000, suffix="7")
    make(out("dicom-empty-patient-id.dcm"), ExplicitVRLittleEndian, rows=2, cols=2, patient_id="",
         sequence=None, suffix="8")


# ---------------------------------------------------------------- NIfTI

def niftis():
    import numpy as np
    import nibabel as nib

    data = np.arange(8 * 6 * 4, dtype=np.int16).reshape(8, 6, 4)
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_zooms((1.5, 1.5, 3.0))
    nib.save(img, out("nifti1-8x6x4.nii"))
    nib.save(img, out("nifti1-8x6x4.nii.gz"))

    data4 = np.zeros((4, 4, 3, 5), dtype=np.uint8)
    img2 = nib.Nifti2Image(data4, np.diag([2.0, 2.0, 2.5, 1.0]))
    img2.header.set_zooms((2.0, 2.0, 2.5, 0.8))
    nib.save(img2, out("nifti2-4x4x3x5.nii"))
    nib.save(img2, out("nifti2-4x4x3x5.nii.gz"))

    # big-endian NIfTI-1, 2-D
    data2 = np.arange(7 * 5, dtype=">i2").reshape(7, 5)
    hdr = nib.Nifti1Header(endianness=">")
    img3 = nib.Nifti1Image(data2, np.diag([0.5, 0.25, 1.0, 1.0]), header=hdr)
    img3.header.set_zooms((0.5, 0.25))
    nib.save(img3, out("nifti1-be-7x5.nii"))

    # gzip that is not NIfTI
    with open(out("not-nifti.txt.gz"), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(b"just some text, not a NIfTI header\n" * 20)


# ---------------------------------------------------------------- text

def texts():
    def w(name, data):
        with open(out(name), "wb") as f:
            f.write(data)

    w("text-plain-utf8.txt", "Grüße aus Zürich — naïve café.\nSecond line with emoji 🙂 and ümlauts.\n".encode())
    w("text-ascii.txt", b"Plain ASCII text.\nNothing special here, only words.\n")
    w("text-utf16le-bom.txt", "\ufeffHello UTF-16 world.\nZweite Zeile: äöü.\n".encode("utf-16-le"))
    w("text-utf16be-bom.txt", "\ufeffHello big-endian UTF-16.\n".encode("utf-16-be"))
    w("text-data.csv", b'id,name,score\n1,"Smith, Jane",9.5\n2,Bob,7\n3,"Quote ""q""",8\n')
    w("text-semicolon.csv", "a;b;c;d\n1;2;3;4\nx;y;z;w\n".encode())
    w("text-tabs.tsv", b"col1\tcol2\n1\t2\n3\t4\n5\t6\n")
    w("text-page.html", b"<!DOCTYPE html>\n<html lang=\"en\"><head><title>t</title></head><body><p>Hi</p></body></html>\n")
    w("text-doc.xml", b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<root><item id=\"1\">one</item></root>\n")
    w("text-rootonly.xml", b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>\n")
    w("text-data.json", json.dumps({"name": "fixture", "values": [1, 2.5, -3e2, True, None],
                                    "nested": {"a": "b\\u00e9"}}, indent=2).encode())
    w("text-array.json", b"  [\n {\"a\": 1}, {\"a\": 2}\n]\n")


# ---------------------------------------------------------------- inflate vectors

def inflate_vectors():
    """Records: u8 wrapper (0 raw, 1 zlib, 2 gzip), u32 original length, u32 CRC-32 of the
    original, u32 compressed length, compressed bytes. All little endian."""
    rnd = random.Random(1951)
    words = [b"the", b"quick", b"brown", b"fox", b"jumps", b"over", b"lazy", b"dog", b"\n", b"PDF", b"obj",
             b"endobj", b"<<", b">>", b"stream"]

    def make(kind, n):
        if kind == "random":
            return bytes(rnd.getrandbits(8) for _ in range(n))
        if kind == "text":
            b = bytearray()
            while len(b) < n:
                b += rnd.choice(words) + b" "
            return bytes(b[:n])
        if kind == "runs":
            b = bytearray()
            while len(b) < n:
                b += bytes([rnd.getrandbits(8)]) * rnd.randint(1, 300)
            return bytes(b[:n])
        if kind == "smallalpha":
            return bytes(rnd.choice(b"ab") for _ in range(n))
        raise ValueError(kind)

    records = []
    sizes = [0, 1, 2, 3, 7, 31, 100, 257, 1000, 4095, 5000, 20000, 40000, 70000, 140000]
    strategies = [zlib.Z_DEFAULT_STRATEGY, zlib.Z_FILTERED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE, zlib.Z_FIXED]
    turn = 0
    for kind in ["random", "text", "runs", "smallalpha"]:
        for n in sizes:
            if n > {"random": 1000, "text": 20000, "runs": 70000, "smallalpha": 20000}[kind]:
                continue
            data = make(kind, n)
            for level in [0, 1, 6, 9]:
                if level == 0 and n > 1000:
                    continue
                if n > 5000 and level != 9:
                    continue  # keep the file small
                wrapper = turn % 3
                turn += 1
                strategy = strategies[rnd.randrange(len(strategies))]
                wbits = [-15, 15, 31][wrapper]
                if rnd.random() < 0.3:
                    wbits = [-9, 9, 25][wrapper]  # 512-byte window
                c = zlib.compressobj(level, zlib.DEFLATED, wbits, rnd.choice([1, 8, 9]), strategy)
                comp = c.compress(data) + c.flush()
                records.append(struct.pack("<BIII", wrapper, len(data), zlib.crc32(data), len(comp)) + comp)
    # gzip module output (with a file name in the header)
    for n in [0, 10, 3000]:
        data = make("text", n)
        buf = io.BytesIO()
        with gzip.GzipFile(filename="name.txt", mode="wb", fileobj=buf, mtime=0) as g:
            g.write(data)
        comp = buf.getvalue()
        records.append(struct.pack("<BIII", 2, len(data), zlib.crc32(data), len(comp)) + comp)
    blob = b"".join(records)
    with open(out("inflate-vectors.bin"), "wb") as f:
        f.write(blob)
    print("inflate vectors:", len(records), "records,", len(blob), "bytes")


if __name__ == "__main__":
    pdfs()
    dicoms()
    niftis()
    texts()
    inflate_vectors()
