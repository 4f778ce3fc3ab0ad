"""The error report: worst relative error per tensor group against sequence length, as plots and
a markdown page, built from a sweep (``gradparity report``) or from certify's results."""
