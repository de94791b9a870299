"""Writes small valid DICOM Part 10 files with pydicom, for the --dicom-series upload test.

usage: make_dicom_series.py OUT_FILE SERIES_UID INSTANCE_NUMBER ROWS COLUMNS [MODALITY]
Every file gets its own SOPInstanceUID; files given the same SERIES_UID form one series.
"""
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

out, series, instance, rows, columns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
modality = sys.argv[6] if len(sys.argv) > 6 else "CT"

meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian

ds = Dataset()
ds.file_meta = meta
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = "1.2.826.0.1.3680043.8.498.900"
ds.SeriesInstanceUID = series
ds.Modality = modality
ds.PatientID = "anon"
ds.InstanceNumber = instance
ds.Rows, ds.Columns = rows, columns
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
ds.PixelData = (np.arange(rows * columns, dtype=np.uint16) * instance % 4096).tobytes()
ds.save_as(out, enforce_file_format=True)
print(ds.SOPInstanceUID)
