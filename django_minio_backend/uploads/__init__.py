"""Direct browser uploads with batteries: signed grants and values, the views, the targets.

The browser sends the file's bytes straight to the S3 server; Django only hands out signed
permissions and checks the result. See docs/direct-uploads.md.
"""
