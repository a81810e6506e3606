#!/usr/bin/env python3
# Axial (at 55 % of the height) and coronal (through the centre) slices of a case's volume.nrrd in the lung window
# (-1000..+400 HU) at 1.4 mm pixels, as 8-bit PNGs: the slice images of docs/data.md. numpy only (the project's venv).
#   usage: doc_slices.py CASE/volume.nrrd OUT_PREFIX   (writes OUT_PREFIX_axial.png, OUT_PREFIX_coronal.png)
import numpy as np, gzip, zlib, struct, sys
def read_nrrd(p):
    raw=open(p,'rb').read(); i=raw.index(b'\n\n'); hdr=raw[:i].decode().split('\n'); data=raw[i+2:]
    h={}
    for l in hdr:
        if ':' in l: k,v=l.split(':',1); h[k.strip()]=v.strip().lstrip('=')
    dims=[int(x) for x in h['sizes'].split()]
    if 'gzip' in h.get('encoding',''): data=gzip.decompress(data)
    t={'short':'<i2','int16':'<i2','signed short':'<i2','uchar':'u1','unsigned char':'u1','uint8':'u1'}[h['type']]
    a=np.frombuffer(data,dtype=t).reshape(dims[::-1])  # z,y,x
    sp=None
    if 'space directions' in h:
        import re
        vs=re.findall(r'\(([^)]*)\)',h['space directions']); sp=[float(v.split(',')[n]) for n,v in enumerate(vs)]
    elif 'spacings' in h: sp=[float(x) for x in h['spacings'].split()]
    return a.astype(np.float32), [abs(s) for s in sp]
def png(path,img):
    img=np.clip(img,0,255).astype(np.uint8); H,W=img.shape
    raw=b''.join(b'\x00'+img[r].tobytes() for r in range(H))
    def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d)&0xffffffff)
    open(path,'wb').write(b'\x89PNG\r\n\x1a\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',W,H,8,0,0,0,0))+chunk(b'IDAT',zlib.compress(raw,9))+chunk(b'IEND',b''))
def sample(a,sp,plane,px=1.4,n=256):
    Z,Y,X=a.shape; c=np.array([X,Y,Z])/2
    u=(np.arange(n)-n/2+0.5)*px
    if plane=='axial':
        k=int(0.55*Z); xi=np.clip((u/sp[0]+X/2).astype(int),0,X-1); yi=np.clip((u/sp[1]+Y/2).astype(int),0,Y-1)
        return a[k][np.ix_(yi,xi)]
    j=Y//2; xi=np.clip((u/sp[0]+X/2).astype(int),0,X-1); zi=(-u/sp[2]+Z/2).astype(int)
    out=np.full((n,n),-1000.0,np.float32); ok=(zi>=0)&(zi<Z)
    out[ok]=a[zi[ok]][:,j,:][:,xi]; return out[ok]
a,sp=read_nrrd(sys.argv[1])
for plane in ['axial','coronal']:
    img=sample(a,sp,plane); png(f"{sys.argv[2]}_{plane}.png",(img+1000)/1400*255)
print(a.shape,sp)
